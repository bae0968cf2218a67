// A SLURM pool beside a local pool in one cluster (real SLURM through the test sshd): the SLURM
// pool starts at 0 and is adaptive; a task for it (pool: 'hpc') makes it submit a job, whose
// pending agent is listed with its pool, then runs there; local work stays local; once idle,
// the SLURM agent is stopped and its job leaves the queue.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { waitUntil } from '../helpers/processes.js';
import { agentsWhere } from '../helpers/agent-events.js';
import { asTestUser, loginSsh, skipCluster } from './cluster-env.js';

const whereAmI = () => ({ job: process.env.SLURM_JOB_ID ?? null, pid: process.pid });

describe.skipIf(skipCluster)('cluster tier: a slurm pool beside a local pool', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start({
      startTimeoutMs: 180_000,
      pools: {
        cpu: { agents: 1, slots: 1 },
        hpc: { backend: 'slurm', ssh: loginSsh, resources: { cpusPerTask: 1, time: '00:10:00' }, agents: 0, adapt: { min: 0, max: 1, idleMs: 2_000 } },
      },
    });
  }, 240_000);
  afterAll(async () => {
    await cluster?.close();
  }, 120_000);

  it('grows the slurm pool for its work, keeps local work local, and shrinks it when idle', async () => {
    const start = await cluster.agents();
    expect(start.map((a) => a.pool)).toEqual(['cpu']);
    const remote = cluster.call(whereAmI, [], { pool: 'hpc' });
    await waitUntil(async () => (await cluster.pendingAgents()).some((p) => p.pool === 'hpc'), { timeoutMs: 30_000, what: 'a pending agent of pool hpc' });
    const ran = await remote;
    expect(ran.job).not.toBeNull();
    const hpc = (await cluster.agents()).find((a) => a.pool === 'hpc')!;
    expect(hpc.jobId).toBe(ran.job);
    expect(await cluster.call(() => process.pid, [], { pool: 'cpu' })).toBe(start[0]!.pid);
    await agentsWhere(cluster, (a) => !a.some((x) => x.pool === 'hpc'), 'the slurm agent stopped once idle', 60_000);
    await waitUntil(() => asTestUser(`squeue -h -o %i -j ${ran.job} 2>/dev/null || true`).trim() === '', { timeoutMs: 60_000, intervalMs: 500, what: `job ${ran.job} gone from the queue` });
  }, 240_000);
});
