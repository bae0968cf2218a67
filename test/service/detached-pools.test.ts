// `{ detach: true }` with `pool`, in both modes: a connected cluster's service runs a detached
// map, stream and call on the agents of the pool named, like attached work; an unknown pool is
// refused at once (UnknownPoolError naming the pools), not as the call's outcome; an embedded
// cluster refuses detach whatever the pool (ConfigError).
import { describe, expect, it } from 'vitest';
import { ConfigError, UnknownPoolError, type AgentInfo, type Cluster } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';

const options = { pools: { cpu: { agents: 1, slots: 2 }, lic: { agents: 1, slots: 1 } } };
const pid = (_?: number): number => process.pid;

function pidOf(agents: AgentInfo[], pool: string): number {
  const row = agents.find((a) => a.pool === pool);
  if (!row) throw new Error(`no agent of pool ${pool} in ${JSON.stringify(agents.map((a) => a.pool))}`);
  return row.pid;
}

describe.each(MODES)('detached calls in a pool ($name)', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, options, (c) => (cluster = c));

  if (mode.name === 'embedded') {
    it('are refused with a ConfigError, pool or not', async () => {
      const err = await cluster.map(pid, [1, 2], { detach: true, pool: 'lic' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toMatch(/a detached map runs in a service/);
    });
    return;
  }

  it('run map, stream and call on the agents of the pool named', async () => {
    const agents = await cluster.agents();
    const [cpu, lic] = [pidOf(agents, 'cpu'), pidOf(agents, 'lic')];
    const items = [1, 2, 3, 4, 5, 6, 7, 8];
    for (const [pool, want] of [['lic', lic], ['cpu', cpu]] as const) {
      const m = await cluster.map(pid, items, { detach: true, pool });
      const s = await cluster.stream(pid, items, { detach: true, pool, chunkSize: 3 });
      const c = await cluster.call(pid, [], { detach: true, pool });
      expect(new Set(await cluster.collect<number[]>(m.id)), `map in ${pool}`).toEqual(new Set([want]));
      expect(new Set(await cluster.collect<number[]>(s.id)), `stream in ${pool}`).toEqual(new Set([want]));
      expect(await cluster.collect<number>(c.id), `call in ${pool}`).toBe(want);
    }
  });

  it("takes a remote() function's pool", async () => {
    const lic = pidOf(await cluster.agents(), 'lic');
    const m = await cluster.map(cluster.remote(pid, { pool: 'lic' }), [1, 2, 3, 4, 5, 6], { detach: true });
    expect(new Set(await cluster.collect<number[]>(m.id))).toEqual(new Set([lic]));
  });

  it('refuses an unknown pool at once with UnknownPoolError naming the pools', async () => {
    for (const started of [cluster.map(pid, [1], { detach: true, pool: 'gpu' }), cluster.stream(pid, [1], { detach: true, pool: 'gpu' }), cluster.call(pid, [], { detach: true, pool: 'gpu' })]) {
      const err = await started.catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnknownPoolError);
      expect((err as UnknownPoolError).pool).toBe('gpu');
      expect((err as UnknownPoolError).pools).toEqual(['cpu', 'lic']);
    }
    // Nothing was started for them.
    expect((await cluster.detachedCalls()).filter((d) => d.state === 'failed')).toEqual([]);
  });
});
