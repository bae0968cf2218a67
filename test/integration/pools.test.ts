// Several pools in one cluster, real local agents, both modes: agents() rows name their pool;
// `pool:` routes run/map/submit/remote/actors to one pool; a task asking for a resource only one
// pool's agents offer (agentResources → CLUSTRIX_RESOURCES) goes there; scale(n, { pool })
// resizes one pool; an unknown pool, or scale(n) without a pool, is an UnknownPoolError naming
// the pools; work no pool can run fails at once naming the pools considered.
import { describe, expect, it } from 'vitest';
import { ResourcesUnsatisfiableError, UnknownPoolError, type AgentInfo, type Cluster } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';

const options = { pools: { cpu: { agents: 1, slots: 2 }, lic: { agents: 1, slots: 1, agentResources: { licenses: 1 } } } };

function pidOf(agents: AgentInfo[], pool: string): number {
  const row = agents.find((a) => a.pool === pool);
  if (!row) throw new Error(`no agent of pool ${pool} in ${JSON.stringify(agents.map((a) => a.pool))}`);
  return row.pid;
}

describe.each(MODES)('several pools ($name)', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, options, (c) => (cluster = c));

  it('agents() rows name their pool and what their agents offer', async () => {
    const agents = await cluster.agents();
    expect(agents.map((a) => a.pool).sort()).toEqual(['cpu', 'lic']);
    expect(agents.find((a) => a.pool === 'lic')!.resources).toMatchObject({ cpus: 1, licenses: 1 });
    expect(agents.find((a) => a.pool === 'cpu')!.resources.licenses).toBeUndefined();
  });

  it('routes run, map, remote, submit and actors by pool', async () => {
    const agents = await cluster.agents();
    const [cpu, lic] = [pidOf(agents, 'cpu'), pidOf(agents, 'lic')];
    const pid = (): number => process.pid;
    expect(await cluster.call(pid, [], { pool: 'lic' })).toBe(lic);
    expect(await cluster.call(pid, [], { pool: 'cpu' })).toBe(cpu);
    expect(new Set(await cluster.map((_: number) => process.pid, [1, 2, 3, 4, 5, 6], { pool: 'lic' }))).toEqual(new Set([lic]));
    expect(new Set(await cluster.map((_: number) => process.pid, [1, 2, 3, 4, 5, 6], { pool: 'cpu' }))).toEqual(new Set([cpu]));
    expect(await cluster.remote(pid, { pool: 'lic' })()).toBe(lic);
    expect(await cluster.submit(cluster.remote(pid, { pool: 'cpu' }))).toBe(cpu);
    class Where {
      pid(): number {
        return process.pid;
      }
    }
    const actor = await cluster.actor(Where, { pool: 'lic' });
    expect(await actor.call('pid')).toBe(lic);
    await actor.kill();
  });

  it('places a task by its resources on the pool whose agents have them', async () => {
    const lic = pidOf(await cluster.agents(), 'lic');
    const out = await cluster.map((_: number) => process.pid, [1, 2, 3], { resources: { licenses: 1 } });
    expect(new Set(out)).toEqual(new Set([lic]));
  });

  it('fails work no pool can run at once, naming the pools considered', async () => {
    const err = await cluster.call((x: number) => x, [1], { resources: { licenses: 2 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourcesUnsatisfiableError);
    expect((err as ResourcesUnsatisfiableError).missing).toEqual({ licenses: { asked: 2, largest: 1 } });
    expect((err as Error).message).toMatch(/pools considered: cpu \(1 agent\), lic \(1 agent\)/);
    // The pool named is the only one considered: cpu's agents have no license.
    const only = await cluster.call((x: number) => x, [1], { pool: 'cpu', resources: { licenses: 1 } }).catch((e: unknown) => e);
    expect(only).toBeInstanceOf(ResourcesUnsatisfiableError);
    expect((only as Error).message).toMatch(/\(licenses: asks 1, the most any agent has is 0\); pools considered: cpu \(1 agent\)\n/);
  });

  it('an unknown pool is an UnknownPoolError naming the pools, for tasks, actors, scale and adapt', async () => {
    const expectUnknown = (err: unknown, pool: string | null): void => {
      expect(err).toBeInstanceOf(UnknownPoolError);
      expect((err as UnknownPoolError).code).toBe('POOL_UNKNOWN');
      expect((err as UnknownPoolError).pool).toBe(pool);
      expect((err as UnknownPoolError).pools).toEqual(['cpu', 'lic']);
      expect((err as Error).message).toContain('cpu, lic');
    };
    expectUnknown(await cluster.call((x: number) => x, [1], { pool: 'gpu' }).catch((e: unknown) => e), 'gpu');
    expectUnknown(await cluster.map((x: number) => x, [1, 2], { pool: 'gpu' }).catch((e: unknown) => e), 'gpu');
    expectUnknown(await cluster.actor(class A {}, { pool: 'gpu' }).catch((e: unknown) => e), 'gpu');
    expectUnknown(await cluster.scale(2, { pool: 'gpu' }).catch((e: unknown) => e), 'gpu');
    expectUnknown(await cluster.scale(2).catch((e: unknown) => e), null);
    expectUnknown(await cluster.adapt({ min: 0, max: 2 }).catch((e: unknown) => e), null);
    expect((await cluster.scale(2).catch((e: unknown) => e) as Error).message).toMatch(/scale\(n\) must name a pool/);
  });

  it('scale(n, { pool }) resizes that pool only', async () => {
    await cluster.scale(2, { pool: 'lic' });
    let agents = await cluster.agents();
    expect(agents.filter((a) => a.pool === 'lic')).toHaveLength(2);
    expect(agents.filter((a) => a.pool === 'cpu')).toHaveLength(1);
    // The new agent got the pool's resources too.
    expect(agents.filter((a) => a.pool === 'lic').every((a) => a.resources.licenses === 1)).toBe(true);
    await cluster.scale(1, { pool: 'lic' });
    agents = await cluster.agents();
    expect(agents.filter((a) => a.pool === 'lic' && a.state === 'ready')).toHaveLength(1);
    expect(agents.filter((a) => a.pool === 'cpu')).toHaveLength(1);
  });
});

describe.each(MODES)('one pool ($name)', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 1, slots: 1 }, (c) => (cluster = c));

  it("is called 'default': rows name it, pool: 'default' runs, scale(n) needs no pool", async () => {
    expect((await cluster.agents()).map((a) => a.pool)).toEqual(['default']);
    expect(await cluster.call((x: number) => x + 1, [1], { pool: 'default' })).toBe(2);
    const err = await cluster.call((x: number) => x, [1], { pool: 'gpu' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnknownPoolError);
    expect((err as Error).message).toMatch(/^there is no pool 'gpu' \(pools: default\)\n/);
    await cluster.scale(1);
  });
});
