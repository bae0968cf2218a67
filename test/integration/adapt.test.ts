// Adaptive scaling with real local agents, both modes (connected: the service runs it): a pool at
// 0 grows on a map and shrinks back to min once idle for idleMs; bursts of work keep the grown
// pool as it is (no launch/stop loop: launches counted from the agents events); an agent running
// a task, holding an actor or holding a stored value is never stopped; scale(n) turns it off.
import { describe, expect, it } from 'vitest';
import { ResourcesUnsatisfiableError, type Cluster } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';
import { agentsWhere, watchAgents } from '../helpers/agent-events.js';

const ready = (pool?: string) => (agents: { state: string; pool: string }[]) => agents.filter((a) => a.state === 'ready' && (pool === undefined || a.pool === pool)).length;

/** Blocks its thread for `ms` (a task that keeps its agent busy). */
function spin(ms: number): number {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return ms;
}

describe.each(MODES)('adapt: grows on demand, shrinks when idle ($name)', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 0, slots: 1, adapt: { min: 0, max: 2, idleMs: 300 } }, (c) => (cluster = c));

  it('grows from 0 on a map (capped at max) and shrinks back to min after idleMs', async () => {
    expect(await cluster.agents()).toEqual([]);
    const seen = watchAgents(cluster);
    const out = await cluster.map(spin, [50, 50, 50, 50, 50, 50]);
    expect(out).toEqual([50, 50, 50, 50, 50, 50]);
    await agentsWhere(cluster, (a) => a.length === 0, 'the pool back at min (0)');
    seen.stop();
    // Grown to max for the six tasks and no further: two agents launched (whether both were ready
    // at the same moment depends on how fast the second started under load), never three.
    expect(seen.ids.size).toBe(2);
    expect(Math.max(...seen.lists.map(ready()))).toBeLessThanOrEqual(2);
    expect(Math.max(...seen.lists.map(ready()))).toBeGreaterThanOrEqual(1);
  });

  it('adapt() replaces the settings and answers them; scale(n) turns it off', async () => {
    expect(await cluster.adapt({ min: 1, max: 1, idleMs: 100 })).toEqual({ pool: 'default', min: 1, max: 1, idleMs: 100 });
    await agentsWhere(cluster, (a) => ready()(a) === 1, 'the pool grown to its new min (1)');
    await cluster.scale(0);
    expect(await cluster.agents()).toEqual([]);
    // Off, at 0: work no agent can run and no pool can grow for fails at once.
    const err = await cluster.run((x: number) => x * 2, 21).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourcesUnsatisfiableError);
    expect((err as Error).message).toMatch(/^no agent can run this task; pools considered: default \(0 agents, cannot grow\)\n/);
    // Adaptive again at 0, the pool grows for it instead.
    await cluster.adapt({ min: 0, max: 1, idleMs: 300 });
    expect(await cluster.run((x: number) => x * 2, 21)).toBe(42);
  });

  it('refuses bad settings with a ConfigError naming them', async () => {
    await expect(cluster.adapt({ min: 3, max: 1 })).rejects.toThrow('options.max: expected at least min (3), got 1');
    await expect(cluster.adapt({ min: 0, max: 1, idleMs: 0 })).rejects.toThrow(/options\.idleMs: expected a whole number of milliseconds from 10/);
  });
});

describe.each(MODES)('adapt: no oscillation under bursts ($name)', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { pools: { burst: { agents: 1, slots: 1, adapt: { min: 1, max: 3, idleMs: 5_000 } } } }, (c) => (cluster = c));

  it('grows for the bursts and keeps every agent it grew through the next ones', async () => {
    const seen = watchAgents(cluster);
    for (let round = 0; round < 6; round++) {
      expect(await cluster.map(spin, Array.from({ length: 12 }, () => 20))).toHaveLength(12);
    }
    seen.stop();
    const story = JSON.stringify(seen.lists.map((l) => l.map((a) => `${a.id}:${a.state}`)));
    // It grew (how far depends on how deep the queue was when it looked: up to max), and it did not
    // oscillate: no agent stopped and another launched; once there, each agent stays to the end.
    expect(seen.ids.size, story).toBeGreaterThanOrEqual(2);
    expect(seen.ids.size, story).toBeLessThanOrEqual(3);
    for (const id of seen.ids) {
      const first = seen.lists.findIndex((l) => l.some((a) => a.id === id));
      expect(seen.lists.slice(first).every((l) => l.some((a) => a.id === id)), story).toBe(true);
    }
    expect((await cluster.agents()).every((a) => a.pool === 'burst')).toBe(true);
  });
});

describe.each(MODES)('adapt: never stops an agent with work, actors or values ($name)', (mode) => {
  let cluster!: Cluster;
  const pools = ['busy', 'actor', 'value', 'idle'];
  useCluster(mode, { pools: Object.fromEntries(pools.map((p) => [p, { agents: 1, slots: 1 }])) }, (c) => (cluster = c));

  it('stops only the idle one while a long task runs, then the others once freed', async () => {
    const start = await cluster.agents();
    const idOf = (pool: string): string => start.find((a) => a.pool === pool)!.id;
    class Keeper {
      n = 0;
      add(): number {
        return ++this.n;
      }
    }
    const actor = await cluster.actor(Keeper, { pool: 'actor' });
    const ref = cluster.submit(cluster.remote(() => 'kept', { pool: 'value' }));
    await cluster.wait([ref]);
    const seen = watchAgents(cluster);
    // Runs for many idleMs: an adapter that stopped busy agents would have.
    const long = cluster.call(spin, [1_500], { pool: 'busy' });
    for (const pool of pools) expect(await cluster.adapt({ pool, min: 0, max: 1, idleMs: 150 })).toEqual({ pool, min: 0, max: 1, idleMs: 150 });
    await agentsWhere(cluster, (a) => !a.some((x) => x.pool === 'idle'), 'the idle pool stopped');
    expect(await long).toBe(1_500);
    seen.stop();
    const kept = [idOf('busy'), idOf('actor'), idOf('value')];
    for (const list of seen.lists) for (const id of kept) expect(list.map((a) => a.id)).toContain(id);
    expect(await actor.call('add')).toBe(1);
    expect(await ref).toBe('kept');
    await agentsWhere(cluster, (a) => !a.some((x) => x.pool === 'busy'), 'the busy pool stopped once its task ended');
    await actor.kill();
    await ref.free();
    await agentsWhere(cluster, (a) => a.length === 0, 'every pool at min (0) once the actor and the value are gone');
  });
});
