// The adaptive scaling rules against a fake pool and a fake clock (no agents, no sleeps): grow by
// waiting tasks over slots per agent, capped at max; no second grow while launched agents are
// pending; no shrink within idleMs of a grow; shrink only agents idle for idleMs, never below min,
// never one with tasks, actor slots or state; back up to min when below it.
import { afterEach, describe, expect, it } from 'vitest';
import { Adapter, type AdaptTarget } from '../../coordinator/engine/adapt.js';
import type { AgentLink } from '../../coordinator/engine/link.js';
import { silentLog } from './fakes.js';

interface FakeAgent {
  id: string;
  inflight: Map<string, unknown>;
  actorSlots: number;
  lastActiveAt: number;
  holds: boolean;
}

class FakePool implements AdaptTarget {
  readonly name = 'p';
  agents: FakeAgent[] = [];
  pendingN = 0;
  waiting = 0;
  slots = 2;
  grown: number[] = [];
  removed: string[][] = [];
  private next = 0;
  constructor(private readonly clock: { t: number }) {}
  add(n: number): void {
    for (let i = 0; i < n; i++) this.agents.push({ id: `a${this.next++}`, inflight: new Map(), actorSlots: 0, lastActiveAt: this.clock.t, holds: false });
  }
  ready(): AgentLink[] {
    return this.agents as unknown as AgentLink[];
  }
  pending(): number {
    return this.pendingN;
  }
  wanted(): number {
    return this.agents.length + this.pendingN;
  }
  demand(): number {
    return this.waiting;
  }
  slotsPerAgent(): number {
    return this.slots;
  }
  holdsState(link: AgentLink): boolean {
    return (link as unknown as FakeAgent).holds;
  }
  async grow(n: number): Promise<void> {
    this.grown.push(n);
    this.pendingN += n;
  }
  async remove(links: readonly AgentLink[]): Promise<void> {
    const ids = links.map((l) => l.id);
    this.removed.push(ids);
    this.agents = this.agents.filter((a) => !ids.includes(a.id));
  }
  /** The pending agents connect. */
  connect(): void {
    this.add(this.pendingN);
    this.pendingN = 0;
  }
}

const adapters: Adapter[] = [];
afterEach(() => {
  for (const a of adapters.splice(0)) a.stop();
});

/** An adapter over a fake pool; `step()` runs one look and lets its grow/shrink settle. */
function setup(settings: { min: number; max: number; idleMs: number }) {
  const clock = { t: 1_000_000 };
  const pool = new FakePool(clock);
  const adapter = new Adapter(pool, settings, silentLog, () => clock.t);
  adapters.push(adapter);
  const step = async (): Promise<void> => {
    adapter.tick();
    await new Promise((r) => setImmediate(r));
  };
  return { clock, pool, adapter, step };
}

describe('adaptive scaling rules', () => {
  it('grows by waiting tasks over slots per agent, capped at max, and not again while pending', async () => {
    const { pool, adapter, step } = setup({ min: 0, max: 5, idleMs: 600_000 });
    adapter.start();
    await new Promise((r) => setImmediate(r));
    expect(pool.grown).toEqual([]);
    pool.waiting = 5;
    await step();
    expect(pool.grown).toEqual([3]); // ceil(5 / 2)
    pool.waiting = 100;
    await step();
    await step();
    expect(pool.grown).toEqual([3]); // its agents are pending
    pool.connect();
    await step();
    expect(pool.grown).toEqual([3, 2]); // up to max 5
    pool.connect();
    await step();
    expect(pool.grown).toEqual([3, 2]);
    expect(pool.agents).toHaveLength(5);
  });

  it('shrinks only agents idle for idleMs, not within idleMs of a grow, never below min, never busy ones', async () => {
    const { clock, pool, adapter, step } = setup({ min: 1, max: 4, idleMs: 600_000 });
    adapter.start();
    await new Promise((r) => setImmediate(r));
    expect(pool.grown).toEqual([1]); // below min
    pool.connect();
    pool.waiting = 6;
    await step();
    expect(pool.grown).toEqual([1, 3]);
    pool.connect();
    pool.waiting = 0;
    const [a0, a1, a2, a3] = pool.agents;
    a1!.inflight.set('t', {});
    a2!.actorSlots = 1;
    a3!.holds = true;
    clock.t += 599_999;
    await step();
    expect(pool.removed).toEqual([]); // within idleMs of the grow
    clock.t += 1;
    // a0 was last active at the start: it is the only idle one free of work, actors and values.
    a0!.lastActiveAt = clock.t - 600_000;
    await step();
    expect(pool.removed).toEqual([[a0!.id]]);
    a1!.inflight.clear();
    a1!.lastActiveAt = clock.t;
    a2!.actorSlots = 0;
    a3!.holds = false;
    clock.t += 600_000;
    await step();
    // Three idle, min 1: two go, the longest idle first.
    expect(pool.removed[1]).toHaveLength(2);
    expect(pool.agents).toHaveLength(1);
    clock.t += 600_000;
    await step();
    expect(pool.agents).toHaveLength(1);
  });

  it('a trickle (demand never waits) makes no change at all', async () => {
    const { clock, pool, adapter, step } = setup({ min: 2, max: 4, idleMs: 1_000 });
    pool.add(2);
    adapter.start();
    for (let i = 0; i < 50; i++) {
      clock.t += 100;
      for (const a of pool.agents) a.lastActiveAt = clock.t - 50;
      await step();
    }
    expect(pool.grown).toEqual([]);
    expect(pool.removed).toEqual([]);
  });

  it('stopped, it does nothing', async () => {
    const { pool, adapter, step } = setup({ min: 3, max: 4, idleMs: 1_000 });
    adapter.start();
    adapter.stop();
    pool.waiting = 10;
    await step();
    expect(pool.grown).toEqual([3]); // the first look, at start
  });
});
