import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { readEnviron } from '../helpers/processes.js';
import { loginAddress, skipCluster, ssh } from './cluster-env.js';

// The SLURM nodes reach the login node only on the cluster bridge: the relay listens there.
const relayHost = loginAddress;

// The agent-in-a-namespace proof of the relay is test/connect/tunnel.test.ts; this one drives the
// same path through Cluster.start, with SLURM jobs and wss through the relay.
describe.skipIf(skipCluster)("Cluster.start with connect: 'tunnel' (SLURM jobs, wss through the relay)", () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start({
      backend: 'slurm',
      ssh,
      agents: 2,
      connect: 'tunnel',
      relayHost,
      tls: true,
      resources: { cpusPerTask: 1, time: '00:10:00' },
      startTimeoutMs: 120_000,
    });
  }, 180_000);
  afterAll(() => cluster?.close(), 60_000);

  it('agents dial the relay on the login node, not the coordinator', async () => {
    // The job script exports the address the agent dials (no secret in it).
    const urls = await cluster.broadcast(() => process.env.CLUSTRIX_URL ?? null);
    expect(urls).toHaveLength(2);
    for (const agent of (await cluster.agents())) expect(readEnviron(agent.pid).CLUSTRIX_URL).toBe(urls[0]);
    for (const url of urls) expect(url).toMatch(new RegExp(`^wss://${relayHost.replace(/\./g, '\\.')}:\\d+$`));
    expect(await cluster.map((x: number) => x + 1, [1, 2, 3])).toEqual([2, 3, 4]);
  });
});
