// resources.nodes = 2 on the four-node test cluster (test/infra: cx-node1..4, each slurmd in its
// own network and UTS namespace): one job, srun starts one agent per node, each reports its own
// node's hostname, and both connect back from their namespaces, directly and through the relay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { coordinatorUrl } from '../helpers/processes.js';
import { loginAddress, loginSsh, skipCluster, ssh } from './cluster-env.js';

/** Where a task ran, as srun told its agent: the node and the task's rank. */
const node = () => ({ slurmNode: process.env.SLURMD_NODENAME ?? null, rank: process.env.SLURM_PROCID ?? null });

const nodeName = /^cx-node[1-4]$/;

async function expectTwoNodesOfOneJob(cluster: Cluster): Promise<void> {
  const agents = (await cluster.agents());
  expect(agents).toHaveLength(2);
  expect(new Set(agents.map((a) => a.jobId)).size).toBe(1);
  const hosts = agents.map((a) => a.host);
  expect(new Set(hosts).size).toBe(2);
  for (const h of hosts) expect(h).toMatch(nodeName);
  // each agent's hostname (its hello) is the node SLURM ran it on
  const seen = await cluster.broadcast(node);
  expect(new Set(seen.map((s) => s.slurmNode))).toEqual(new Set(hosts));
  expect(new Set(seen.map((s) => s.rank))).toEqual(new Set(['0', '1']));
  expect(await cluster.map((x: number) => x * 3, [1, 2, 3, 4])).toEqual([3, 6, 9, 12]);
}

describe.skipIf(skipCluster)('SLURM, resources.nodes = 2 (one agent per node through srun)', () => {
  describe("connect: 'direct' (ssh to the login node's cluster address)", () => {
    let cluster: Cluster;
    beforeAll(async () => {
      cluster = await Cluster.start({
        backend: 'slurm',
        ssh: loginSsh,
        agents: 2,
        resources: { nodes: 2, cpusPerTask: 1, time: '00:10:00' },
        startTimeoutMs: 120_000,
      });
    }, 180_000);
    afterAll(() => cluster?.close(), 60_000);

    it('one job starts two agents on two different nodes, which dial the advertised login address', async () => {
      await expectTwoNodesOfOneJob(cluster);
      // detected from the SSH target: the address this machine reaches the login node by
      expect(new URL(await coordinatorUrl(cluster)).hostname).toBe(loginAddress);
    }, 120_000);
  });

  describe("connect: 'tunnel' (wss through the relay on the login node's cluster address)", () => {
    let cluster: Cluster;
    beforeAll(async () => {
      cluster = await Cluster.start({
        backend: 'slurm',
        ssh,
        agents: 2,
        connect: 'tunnel',
        relayHost: loginAddress,
        tls: true,
        resources: { nodes: 2, cpusPerTask: 1, time: '00:10:00' },
        startTimeoutMs: 120_000,
      });
    }, 180_000);
    afterAll(() => cluster?.close(), 60_000);

    it('both agents of the job connect through the relay from their nodes', async () => {
      await expectTwoNodesOfOneJob(cluster);
      const urls = await cluster.broadcast(() => process.env.CLUSTRIX_URL ?? null);
      for (const url of urls) expect(url).toMatch(new RegExp(`^wss://${loginAddress.replace(/\./g, '\\.')}:\\d+$`));
    }, 120_000);
  });
});
