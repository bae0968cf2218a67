/**
 * The kubernetes launcher end to end, through @kubernetes/client-node, against a STAND-IN for the
 * Kubernetes API server (test/kubernetes/standin/), not a live cluster: no cluster can run on this
 * machine. The stand-in speaks the documented API for the endpoints used, enforces the Role in
 * deploy/kubernetes/rbac.yaml, and runs each pod as a local process with the pod's environment;
 * the agent is a fake (test/fixtures/kubernetes/fake-agent.mjs) that checks its environment and
 * dials back to a WebSocket endpoint standing in for the coordinator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterClosedError, ConfigError, JobStartError } from '../../coordinator/errors/errors.js';
import { KubernetesLauncher, indexedAgentIds, type KubernetesLauncherOptions } from '../../coordinator/backends/launchers/kubernetes/index.js';
import type { Obj } from './standin/store.js';
import { FakeCoordinator, startStandin, waitFor, type Standin } from './standin/harness.js';

const TOKEN = 'cluster-secret-7f3a9c';

describe('kubernetes launcher against a stand-in API server (not a live cluster)', () => {
  let standin: Standin;
  let coordinator: FakeCoordinator;
  const launchers: KubernetesLauncher[] = [];

  beforeAll(async () => {
    standin = await startStandin();
    coordinator = new FakeCoordinator();
    await coordinator.ready();
  });
  afterAll(async () => {
    await Promise.allSettled(launchers.map((l) => l.close()));
    await coordinator.close();
    await standin.close();
  });

  function launcher(options: KubernetesLauncherOptions): KubernetesLauncher {
    const l = new KubernetesLauncher({ kubeconfig: standin.kubeconfig, context: 'standin', image: 'ghcr.io/clustrix/agent:test', cpu: '500m', memory: '256Mi', ...options });
    launchers.push(l);
    return l;
  }
  const launch = (l: KubernetesLauncher, prefix: string, n: number) => l.launch({ connect: { url: coordinator.url, token: TOKEN }, agentIds: indexedAgentIds(prefix, n) });
  const stateOf = async (l: KubernetesLauncher, jobId: string) => (await l.status([jobId]))[0];
  const stored = (resource: 'jobs' | 'pods' | 'secrets', cluster: string): Obj[] =>
    standin.api.store.list(resource, 'clustrix', `clustrix.dev/cluster=${cluster}`);

  it('starts an indexed Job whose agents connect back with the token from its Secret', async () => {
    const l = launcher({ clusterName: 'it-basic' });
    expect(l.namespace).toBe('clustrix'); // from the chosen context
    const jobs = await launch(l, 'k1', 2);
    expect(jobs).toEqual([{ jobId: 'it-basic-1', agentIds: ['k1-0', 'k1-1'] }]);

    await waitFor('both agents to say hello', () => coordinator.hello('k1-0') && coordinator.hello('k1-1'));
    for (const id of ['k1-0', 'k1-1']) {
      expect(coordinator.hello(id)).toMatchObject({ agentId: id, token: TOKEN, jobId: 'it-basic-1', slots: 1 });
      const hello = coordinator.hello(id);
      expect(hello?.walltimeEnd).toBeGreaterThan(Date.now() + 86_000_000);
      expect(hello?.envNames).toContain('JOB_COMPLETION_INDEX');
    }
    expect(await waitFor('running', async () => (await stateOf(l, 'it-basic-1'))?.state === 'running')).toBe(true);

    // Create suspended, create the Secret owned by the Job, then resume: in that order.
    const calls = standin.api.requests.map((r) => `${r.code} ${r.call}`).filter((c) => /(POST|PATCH) /.test(c));
    expect(calls).toEqual([
      '201 POST /apis/batch/v1/namespaces/clustrix/jobs',
      '201 POST /api/v1/namespaces/clustrix/secrets',
      '200 PATCH /apis/batch/v1/namespaces/clustrix/jobs/it-basic-1',
    ]);
    const [job] = stored('jobs', 'it-basic');
    const [secret] = stored('secrets', 'it-basic');
    expect(job?.spec).toMatchObject({ suspend: false, completionMode: 'Indexed', completions: 2 });
    expect(secret?.metadata.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'Job', name: 'it-basic-1', uid: job?.metadata.uid }]);
    // The token is in the Secret only: not in the Job, not in any pod object.
    for (const o of [job, ...stored('pods', 'it-basic')]) {
      expect(JSON.stringify(o)).not.toContain(TOKEN);
      expect(JSON.stringify(o)).not.toContain(Buffer.from(TOKEN).toString('base64'));
    }

    const logs = await l.logs('it-basic-1', 5);
    expect(logs.stderr).toBe('');
    expect(logs.stdout).toMatch(/==> pod it-basic-1-0-\w+ <==\nfake agent k1-0 starting on it-basic-1-0 \(job it-basic-1, 1 slots\)\nfake agent k1-0 connected/);
    expect(logs.stdout).toContain('fake agent k1-1 connected');
  });

  it('gives agents the ids the pool asked for, also when they do not start at 0 (kubelet $(VAR) expansion)', async () => {
    const l = launcher({ clusterName: 'it-ids' });
    const [job] = await l.launch({ connect: { url: coordinator.url, token: TOKEN }, agentIds: ['pool-4', 'pool-7', 'pool-9'], slots: 2 });
    expect(job).toEqual({ jobId: 'it-ids-1', agentIds: ['pool-4', 'pool-7', 'pool-9'] });
    await waitFor('the three agents', () => ['pool-4', 'pool-7', 'pool-9'].every((id) => coordinator.hello(id)));
    expect(coordinator.hellos.filter((h) => h.jobId === 'it-ids-1').map((h) => [h.agentId, h.slots]).sort()).toEqual([['pool-4', 2], ['pool-7', 2], ['pool-9', 2]]);
    await l.close();
  });

  it('scales up by adding Jobs and down by deleting them; close() deletes the rest, foreground', async () => {
    const l = launcher({ clusterName: 'it-scale' });
    const [first] = await launch(l, 'a1', 2);
    const [second] = await launch(l, 'a2', 1);
    expect([first?.jobId, second?.jobId]).toEqual(['it-scale-1', 'it-scale-2']);
    await waitFor('three agents', () => ['a1-0', 'a1-1', 'a2-0'].every((id) => coordinator.connected(id)));

    await l.cancel(['it-scale-1', 'not-ours']);
    const deletes = standin.api.requests.filter((r) => r.call.startsWith('DELETE')).map((r) => r.call);
    expect(deletes).toContain('DELETE /apis/batch/v1/namespaces/clustrix/jobs/it-scale-1?propagationPolicy=Foreground');
    expect(deletes).toContain('DELETE /api/v1/namespaces/clustrix/secrets/it-scale-1');
    expect(deletes.some((d) => d.includes('not-ours'))).toBe(false);
    await waitFor('the first Job and its pods to be gone', () =>
      !stored('jobs', 'it-scale').some((j) => j.metadata.name === 'it-scale-1') && !coordinator.connected('a1-0') && !coordinator.connected('a1-1'));
    expect(coordinator.connected('a2-0')).toBe(true);
    expect(await stateOf(l, 'it-scale-1')).toEqual({ jobId: 'it-scale-1', state: 'cancelled' });

    await l.close();
    await l.close(); // idempotent
    await waitFor('everything of the cluster to be gone', () =>
      stored('jobs', 'it-scale').length + stored('pods', 'it-scale').length + stored('secrets', 'it-scale').length === 0);
    // The pod's process is killed with its deletion; its socket closes a moment later.
    await waitFor('the last agent to disconnect', () => !coordinator.connected('a2-0'));
    await expect(launch(l, 'a3', 1)).rejects.toBeInstanceOf(ClusterClosedError);
  });

  it('a launch that close() overtakes is undone and rejected', async () => {
    const l = launcher({ clusterName: 'it-race' });
    const launching = launch(l, 'r1', 1);
    await l.close();
    await expect(launching).rejects.toBeInstanceOf(ClusterClosedError);
    await waitFor('nothing of the cluster to remain', () => stored('jobs', 'it-race').length + stored('secrets', 'it-race').length === 0);
  });

  it('a Job whose agents finish completes; its TTL then removes it and, through the owner reference, its Secret', async () => {
    const l = launcher({ clusterName: 'it-ttl', ttlSecondsAfterFinished: 0 });
    const [job] = await launch(l, 't1', 1);
    await waitFor('the agent', () => coordinator.connected('t1-0'));
    coordinator.release('t1-0');
    await waitFor('completed', async () => (await stateOf(l, job?.jobId ?? ''))?.state === 'completed');
    await waitFor('the Job and Secret to be collected', () => stored('jobs', 'it-ttl').length + stored('secrets', 'it-ttl').length === 0);
    expect(await stateOf(l, job?.jobId ?? '')).toEqual({ jobId: 'it-ttl-1', state: 'completed', exitCode: 0 });
  });

  it('reports ImagePullBackOff as failed, and explains it in a JobStartError with the events', async () => {
    const l = launcher({ clusterName: 'it-pull', image: 'ghcr.io/clustrix/does-not-exist:0.0.0', stuckTimeoutMs: 500 });
    const [job] = await launch(l, 'p1', 1);
    const status = await waitFor('failed', async () => {
      const s = await stateOf(l, job?.jobId ?? '');
      return s?.state === 'failed' ? s : undefined;
    });
    expect(['ErrImagePull', 'ImagePullBackOff']).toContain(status.reason);
    const err = await l.startError('it-pull-1');
    expect(err).toBeInstanceOf(JobStartError);
    expect(err.message).toMatch(/^Kubernetes Job it-pull-1 failed to start: (ErrImagePull|ImagePullBackOff) \(pod it-pull-1-0-\w+: /);
    expect(err.output).toContain('Warning Failed pod/it-pull-1-0-');
    expect(err.output).toContain('Failed to pull image "ghcr.io/clustrix/does-not-exist:0.0.0"');
    expect(err.hint).toMatch(/option 'image'/);
  });

  it('reports a pod that no node can take (Unschedulable) with the scheduler\'s words', async () => {
    const big = launcher({ clusterName: 'it-cpu', cpu: 64, stuckTimeoutMs: 0 });
    const [job] = await launch(big, 'u1', 1);
    await waitFor('failed', async () => (await stateOf(big, job?.jobId ?? ''))?.reason === 'Unschedulable');
    const err = await big.startError('it-cpu-1');
    expect(err.message).toContain('failed to start: Unschedulable (pod it-cpu-1-0-');
    expect(err.output).toMatch(/Warning FailedScheduling pod\/it-cpu-1-0-\w+: 0\/1 nodes are available: 1 Insufficient cpu\./);

    const elsewhere = launcher({ clusterName: 'it-sel', nodeSelector: { pool: 'gpu' }, stuckTimeoutMs: 0 });
    await launch(elsewhere, 'u2', 1);
    await waitFor('failed', async () => (await stateOf(elsewhere, 'it-sel-1'))?.reason === 'Unschedulable');
    expect((await elsewhere.startError('it-sel-1')).output).toContain("didn't match Pod's node affinity/selector");
  });

  it('reports CrashLoopBackOff at once with the exit code and the agent\'s last words; then BackoffLimitExceeded', async () => {
    const l = launcher({ clusterName: 'it-crash', env: { FAKE_AGENT_EXIT_CODE: '3' }, backoffLimit: 3 });
    const [job] = await launch(l, 'c1', 1);
    const status = await waitFor('CrashLoopBackOff', async () => {
      const s = await stateOf(l, job?.jobId ?? '');
      return s?.reason === 'CrashLoopBackOff' ? s : undefined;
    });
    expect(status).toEqual({ jobId: 'it-crash-1', state: 'failed', reason: 'CrashLoopBackOff', exitCode: 3 });
    const err = await l.startError('it-crash-1');
    expect(err.output).toMatch(/Warning BackOff pod\/it-crash-1-0-\w+: Back-off restarting failed container agent/);
    expect(err.output).toContain('fake agent c1-0: crashing with exit code 3 as asked');
    await waitFor('the Job to fail', async () => (await stateOf(l, 'it-crash-1'))?.reason === 'BackoffLimitExceeded');
    expect(await stateOf(l, 'it-crash-1')).toEqual({ jobId: 'it-crash-1', state: 'failed', reason: 'BackoffLimitExceeded', exitCode: 3 });
  });

  it('keeps its picture current across a dropped watch (the API server closes watches at will)', async () => {
    const l = launcher({ clusterName: 'it-watch', ttlSecondsAfterFinished: null });
    await launch(l, 'w1', 1);
    await waitFor('running', async () => (await stateOf(l, 'it-watch-1'))?.state === 'running');
    await waitFor('the agent', () => coordinator.connected('w1-0'));
    const watches = () => standin.api.requests.filter((r) => r.call.includes('watch=true')).length;
    const before = watches();
    standin.api.dropWatches();
    await waitFor('the launcher to watch again', () => watches() >= before + 2);
    coordinator.release('w1-0');
    await waitFor('completed', async () => (await stateOf(l, 'it-watch-1'))?.state === 'completed');
  });

  it('used only what deploy/kubernetes/rbac.yaml grants (the stand-in enforces that Role)', () => {
    const refused = standin.api.requests.filter((r) => r.code === 401 || r.code === 403 || r.code === 405 || r.code >= 500);
    expect(refused).toEqual([]);
  });
});

describe('kubernetes launcher set-up errors, against a stand-in API server (not a live cluster)', () => {
  it('says which permission is missing, points at rbac.yaml, and leaves no Job behind', async () => {
    const standin = await startStandin();
    try {
      standin.api['options'].rules = standin.api['options'].rules.map((r) => ({ ...r, verbs: r.resources.includes('secrets') ? ['get', 'delete'] : r.verbs }));
      const l = new KubernetesLauncher({ kubeconfig: standin.kubeconfig, context: 'standin', clusterName: 'it-rbac' });
      const err = await l.launch({ connect: { url: 'ws://127.0.0.1:1', token: TOKEN }, agentIds: ['r-0'] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(/^Kubernetes forbids us to create Secrets and resume Jobs in namespace clustrix: secrets is forbidden: User ".*" cannot create resource "secrets" in API group "" in the namespace "clustrix"/);
      expect((err as ConfigError).hint).toMatch(/deploy\/kubernetes\/rbac\.yaml/);
      await waitFor('the half-made Job to be deleted', () => standin.api.store.listAll('jobs').length === 0);
      await l.close();
    } finally {
      await standin.close();
    }
  });

  it('says when the namespace does not exist', async () => {
    const standin = await startStandin();
    try {
      const l = new KubernetesLauncher({ kubeconfig: standin.kubeconfig, context: 'standin', namespace: 'nowhere', clusterName: 'it-ns' });
      const err = await l.launch({ connect: { url: 'ws://127.0.0.1:1', token: TOKEN }, agentIds: ['n-0'] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).message).toMatch(/^namespace nowhere does not exist/);
      await l.close();
    } finally {
      await standin.close();
    }
  });

  it('rejects a context the kubeconfig does not have, naming the ones it has', async () => {
    const standin = await startStandin();
    try {
      const make = () => new KubernetesLauncher({ kubeconfig: standin.kubeconfig, context: 'prod' });
      expect(make).toThrow(ConfigError);
      expect(make).toThrow(/^the kubeconfig has no context "prod"\n {2}hint: known contexts: elsewhere, standin$/);
    } finally {
      await standin.close();
    }
  });

  it('rejects inCluster outside a pod', () => {
    expect(() => new KubernetesLauncher({ inCluster: true })).toThrow(/^inCluster is set but this process does not run in a pod/);
  });
});
