/**
 * The real agent bundle (dist/bundle/agent.cjs, built by `npm run build`) as the pods' entrypoint,
 * under a STAND-IN Kubernetes API server (not a live cluster), dialing the coordinator's real
 * AgentServer: the agent reads the environment the launcher's manifests give it (address and token
 * from the Secret, its id through the kubelet's and its own substitution) and passes the real
 * handshake. Running tasks needs the pool to construct this launcher (a `kubernetes` backend),
 * which the coordinator does not have yet; this test stops at the authenticated hello.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hello } from '../../protocol/agent-messages.js';
import { createLogger } from '../../coordinator/util/logger.js';
import { AgentServer, welcomeMessage } from '../../coordinator/engine/agent-server.js';
import { KubernetesLauncher } from '../../coordinator/backends/launchers/kubernetes/index.js';
import { startStandin, waitFor, type Standin } from './standin/harness.js';

const bundle = fileURLToPath(new URL('../../dist/bundle/agent.cjs', import.meta.url));
const TOKEN = 'real-agent-token-5d1e';

describe.runIf(existsSync(bundle))('kubernetes launcher + the real agent bundle, against a stand-in API server (not a live cluster)', () => {
  let standin: Standin;
  let server: AgentServer;
  let url: string;
  const hellos: Hello[] = [];

  beforeAll(async () => {
    standin = await startStandin({ entrypoint: [process.execPath, bundle] });
    server = new AgentServer(
      { token: TOKEN, maxFrameBytes: 64 * 1024 * 1024, heartbeatMs: 5_000, authTimeoutMs: 5_000, tls: null },
      (agent) => {
        hellos.push(agent.hello);
        agent.socket.send(welcomeMessage(agent.hello.agentId ?? '?', 5_000, { objectStoreBytes: 1024 * 1024, objectSpillBytes: 1024 * 1024 }));
      },
      createLogger('error'),
    );
    url = `ws://127.0.0.1:${(await server.listen('127.0.0.1', 0)).port}`;
  });
  afterAll(async () => {
    await server.close();
    await standin.close();
  });

  it('agents authenticate with the token from the Secret and report the ids, job and slots the launcher gave them', async () => {
    const launcher = new KubernetesLauncher({ kubeconfig: standin.kubeconfig, context: 'standin', clusterName: 'it-real', cpu: '500m', memory: '256Mi' });
    try {
      const [job] = await launcher.launch({ connect: { url, token: TOKEN }, agentIds: ['rk-3', 'rk-5'], slots: 2 });
      await waitFor('two authenticated agents', () => hellos.length >= 2, 30_000);
      expect(hellos.map((h) => [h.agentId, h.jobId, h.slots]).sort()).toEqual([['rk-3', job?.jobId, 2], ['rk-5', job?.jobId, 2]]);
      // The walltime the launcher derived from activeDeadlineSeconds (a day) reached the agent.
      for (const h of hellos) expect(h.walltimeLeftMs).toBeGreaterThan(86_000_000);
      expect((await launcher.status([job?.jobId ?? '']))[0]?.state).toBe('running');
    } finally {
      await launcher.close();
    }
    await waitFor('the pods to be gone', () => standin.api.store.listAll('pods').length === 0, 30_000);
  });
});
