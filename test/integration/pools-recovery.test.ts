// A pool that lost its agents beside one that has its own, both modes: work that named the empty
// pool fails with POOL_UNAVAILABLE after recoveryTimeoutMs; work for any agent, queued behind the
// other pool's busy agent at the same time, is not failed with it and runs there.
import { describe, expect, it } from 'vitest';
import { PoolUnavailableError, type Cluster } from 'clustrix';
import { isAlive, waitUntil } from '../helpers/processes.js';
import { MODES, useCluster } from '../helpers/modes.js';

function spin(ms: number): number {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return process.pid;
}

describe.each(MODES)('a pool without agents beside one with ($name)', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { recoveryTimeoutMs: 500, pools: { lost: { agents: 1, slots: 1, replaceLostAgents: false }, kept: { agents: 1, slots: 1 } } }, (c) => (cluster = c));

  it("fails only the work that named it, after recoveryTimeoutMs", async () => {
    const agents = await cluster.agents();
    const lost = agents.find((a) => a.pool === 'lost')!;
    const kept = agents.find((a) => a.pool === 'kept')!;
    process.kill(lost.pid, 'SIGKILL');
    await waitUntil(async () => !(await cluster.agents()).some((a) => a.pool === 'lost') && !isAlive(lost.pid), { what: 'the lost pool to have no agent' });
    // The kept pool's one slot is busy past the bound: plain tasks wait in the queue meanwhile.
    const busy = cluster.call(spin, [1_500], { pool: 'kept' });
    const plain = [1, 2, 3, 4].map(() => cluster.call(spin, [1]));
    const named = await cluster.call(spin, [1], { pool: 'lost' }).catch((e: unknown) => e);
    expect(named).toBeInstanceOf(PoolUnavailableError);
    expect(await busy).toBe(kept.pid);
    expect(await Promise.all(plain)).toEqual([kept.pid, kept.pid, kept.pid, kept.pid]);
  });
});
