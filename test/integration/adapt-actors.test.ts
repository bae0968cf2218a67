// Adaptive scaling for actors that name no pool, real local agents, both modes: an actor that no
// connected agent has room for (other actors hold the slots), or that asks for more cpus than any
// connected agent has, waits as demand and an adaptive pool grows for it, like tasks do; an actor
// the grown pool's agents cannot hold either fails then with RESOURCES_UNSATISFIABLE. Before, such
// actors made an adaptive pool grow only when the cluster had no agent at all.
import { describe, expect, it } from 'vitest';
import { ResourcesUnsatisfiableError, type ActorInfo, type Cluster } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';
import { agentsWhere } from '../helpers/agent-events.js';

class Holder {
  where(): number {
    return process.pid;
  }
}

const options = { pools: { fixed: { agents: 1, slots: 1 }, elastic: { agents: 0, slots: 2, adapt: { min: 0, max: 1, idleMs: 300 } } } };

describe.each(MODES)('adapt grows for actors that name no pool ($name)', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, options, (c) => (cluster = c));

  /** The pool of the agent the actor lives on. */
  async function poolOf(actorId: string): Promise<string | undefined> {
    const row: ActorInfo | undefined = (await cluster.actors()).find((a) => a.id === actorId);
    return (await cluster.agents()).find((a) => a.id === row?.agentId)?.pool;
  }

  it('grows for an actor no connected agent has room for, and places it on the new agent', { timeout: 30_000 }, async () => {
    const first = await cluster.actor(Holder, { resources: { cpus: 1 } });
    expect(await poolOf(first.id)).toBe('fixed');
    // fixed's only slot is held: this one waits, and elastic (no agent yet) grows for it.
    const second = await cluster.actor(Holder, { resources: { cpus: 1 } });
    expect(await poolOf(second.id)).toBe('elastic');
    expect(await second.call('where')).toBe((await cluster.agents()).find((a) => a.pool === 'elastic')!.pid);
    await second.kill();
    await first.kill();
    await agentsWhere(cluster, (a) => !a.some((x) => x.pool === 'elastic'), 'elastic back at 0 once its actor is gone');
  });

  it('grows for an actor asking for more cpus than any connected agent has, instead of failing it', { timeout: 30_000 }, async () => {
    const big = await cluster.actor(Holder, { resources: { cpus: 2 } });
    expect(await poolOf(big.id)).toBe('elastic');
    await big.kill();
    await agentsWhere(cluster, (a) => !a.some((x) => x.pool === 'elastic'), 'elastic back at 0 once its actor is gone');
  });

  it('fails an actor once the grown pool\'s agents cannot hold it either', { timeout: 30_000 }, async () => {
    const err = await cluster.actor(Holder, { resources: { cpus: 3 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourcesUnsatisfiableError);
    expect((err as Error).message).toMatch(/asks for 3 cpus \(slots\); the largest agent has 2/);
  });
});
