// Actor checkpoints: with `checkpoint: { everyCalls, everyMs }`, the actor's state (its own fields,
// or what checkpoint() returns) is kept on the coordinator; after its agent is SIGKILLed the actor
// comes back from the last checkpoint, not from its constructor — in both modes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type ActorHandle, type Cluster } from 'clustrix';
import { waitUntil } from '../helpers/processes.js';
import { MODES, openCluster, type Opened } from './modes.js';

class Tally {
  n = 0;
  seen: string[] = [];
  constructor(start: number) {
    this.n = start;
  }
  add(k: number, tag: string): number {
    this.n += k;
    this.seen.push(tag);
    return this.n;
  }
  get(): { n: number; seen: string[] } {
    return { n: this.n, seen: this.seen };
  }
}

class Keeper {
  private readonly items = new Map<string, number>();
  restores = 0;
  put(k: string, v: number): number {
    this.items.set(k, v);
    return this.items.size;
  }
  dump(): { items: [string, number][]; restores: number } {
    return { items: [...this.items], restores: this.restores };
  }
  checkpoint(): [string, number][] {
    return [...this.items];
  }
  restore(state: [string, number][]): void {
    for (const [k, v] of state) this.items.set(k, v);
    this.restores++;
  }
}

async function killAgentOf(cluster: Cluster, handle: Pick<ActorHandle, 'id' | 'restarts' | 'state'>): Promise<void> {
  const row = (await cluster.actors()).find((a) => a.id === handle.id)!;
  const agent = (await cluster.agents()).find((a) => a.id === row.agentId)!;
  process.kill(agent.pid, 'SIGKILL');
  await waitUntil(() => handle.restarts === 1 && handle.state === 'alive', { timeoutMs: 30_000, what: `actor ${handle.id} to come back` });
}

describe.each(MODES)('actor checkpoints (%s)', (mode) => {
  let opened: Opened;
  let cluster: Cluster;
  beforeAll(async () => {
    opened = await openCluster(mode, { agents: 2, slots: 1 });
    cluster = opened.cluster;
  });
  afterAll(async () => {
    await opened?.close();
  });

  it('restores its own fields from the last checkpoint after its agent is killed', { timeout: 60_000 }, async () => {
    const tally = await cluster.actor(Tally, { args: [100], maxRestarts: 2, checkpoint: { everyCalls: 5 } });
    expect(tally.restoredFrom).toBeNull();
    for (let i = 1; i <= 10; i++) await tally.call('add', 1, `c${i}`);
    // Answered after checkpoint 10 was sent (one channel, in order): the coordinator has it.
    expect(await tally.call('add', 1, 'c11')).toBe(111);
    await killAgentOf(cluster, tally);
    expect(tally.restoredFrom).toBe(10);
    const got = await tally.call('get');
    expect(got.n).toBe(110);
    expect(got.seen).toEqual(Array.from({ length: 10 }, (_, i) => `c${i + 1}`));
    expect((await cluster.actors()).find((a) => a.id === tally.id)).toMatchObject({ restarts: 1, restoredFrom: 10 });
    await tally.kill();
  });

  it('uses checkpoint() and restore(state) when the class has them', { timeout: 60_000 }, async () => {
    const keeper = await cluster.actor(Keeper, { maxRestarts: 1, checkpoint: { everyCalls: 2 } });
    await keeper.call('put', 'a', 1);
    await keeper.call('put', 'b', 2);
    await keeper.call('put', 'c', 3);
    await killAgentOf(cluster, keeper);
    expect(await keeper.call('dump')).toEqual({ items: [['a', 1], ['b', 2]], restores: 1 });
    expect(keeper.restoredFrom).toBe(2);
    await keeper.kill();
  });

  it('takes a timed checkpoint (everyMs) long before everyCalls, and restores from it', { timeout: 60_000 }, async () => {
    const tally = await cluster.actor(Tally, { args: [0], maxRestarts: 1, checkpoint: { everyCalls: 1000, everyMs: 100 } });
    for (let i = 1; i <= 3; i++) await tally.call('add', 2, `t${i}`);
    const checkpointOf = async (): Promise<number | null> => (await cluster.actors()).find((a) => a.id === tally.id)?.checkpointCalls ?? null;
    await waitUntil(async () => (await checkpointOf()) === 3, { timeoutMs: 10_000, what: 'a timed checkpoint of 3 calls' });
    await killAgentOf(cluster, tally);
    expect(tally.restoredFrom).toBe(3);
    expect(await tally.call('get')).toEqual({ n: 6, seen: ['t1', 't2', 't3'] });
    await tally.kill();
  });

  it('keeps taking timed checkpoints as later calls come (the timer re-arms)', { timeout: 60_000 }, async () => {
    const tally = await cluster.actor(Tally, { args: [0], checkpoint: { everyMs: 50 } });
    await tally.call('add', 1, 'a');
    const checkpointOf = async (): Promise<number | null> => (await cluster.actors()).find((a) => a.id === tally.id)?.checkpointCalls ?? null;
    await waitUntil(async () => (await checkpointOf()) === 1, { timeoutMs: 10_000, what: 'a timed checkpoint of 1 call' });
    await tally.call('add', 1, 'b');
    await waitUntil(async () => (await checkpointOf()) === 2, { timeoutMs: 10_000, what: 'a timed checkpoint of 2 calls' });
    await tally.kill();
  });

  it('without checkpoints a restart begins from the constructor', { timeout: 60_000 }, async () => {
    const tally = await cluster.actor(Tally, { args: [5], maxRestarts: 1 });
    await tally.call('add', 1, 'x');
    await killAgentOf(cluster, tally);
    expect((await tally.call('get')).n).toBe(5);
    expect(tally.restoredFrom).toBeNull();
    await tally.kill();
  });

  it('refuses a bad checkpoint option with a ConfigError', async () => {
    await expect(cluster.actor(Tally, { checkpoint: { everyCalls: 0 } })).rejects.toBeInstanceOf(ConfigError);
    await expect(cluster.actor(Tally, { checkpoint: { every: 2 } as never })).rejects.toBeInstanceOf(ConfigError);
    await expect(cluster.actor(Tally, { checkpoint: {} })).rejects.toBeInstanceOf(ConfigError);
    await expect(cluster.actor(Tally, { checkpoint: { everyMs: 2 ** 31 } })).rejects.toThrow(/everyMs/);
    await expect(cluster.actor(Tally, { checkpoint: { everyMs: 5 } })).rejects.toBeInstanceOf(ConfigError);
  });
});
