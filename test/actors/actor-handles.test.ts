import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, type ActorHandle } from 'clustrix';
import { MODES, type ClusterHandle } from '../helpers/modes.js';

class Tally {
  total = 0;
  add(k: number): number {
    this.total += k;
    return this.total;
  }
}

class Forwarder {
  constructor(private readonly target: ActorHandle<Tally>) {}
  async addTwice(k: number): Promise<number> {
    await this.target.call('add', k);
    return this.target.call('add', k);
  }
}

describe.each(MODES)('actor handles passed around ($name)', (mode) => {
  let cluster: Cluster;
  let handle: ClusterHandle | undefined;
  beforeAll(async () => {
    handle = await mode.start({ agents: 2, slots: 2 });
    cluster = handle.cluster;
  });
  afterAll(() => handle?.close());

  it('a task holding a handle calls the same actor', async () => {
    const tally = await cluster.actor(Tally);
    await tally.call('add', 1);
    const results = await cluster.map(
      async (h: ActorHandle<Tally>) => h.call('add', 10),
      Array.from({ length: 6 }, () => tally),
    );
    expect(results.sort((a, b) => a - b)).toEqual([11, 21, 31, 41, 51, 61]);
    expect(await tally.call('add', 0)).toBe(61);
    await tally.kill();
  });

  it('an inline task can call an actor through its handle too', async () => {
    const tally = await cluster.actor(Tally);
    const f = cluster.remote(async (h: ActorHandle<Tally>) => h.call('add', 5), { inline: true });
    expect(await f(tally)).toBe(5);
    await tally.kill();
  });

  it('an actor given a handle as a constructor argument calls the other actor', async () => {
    const tally = await cluster.actor(Tally);
    const forwarder = await cluster.actor(Forwarder, { args: [tally], maxConcurrency: 4 });
    expect(await forwarder.call('addTwice', 3)).toBe(6);
    expect(await tally.call('add', 0)).toBe(6);
    await forwarder.kill();
    await tally.kill();
  });

  it('a handle returned from a task is a live handle again', async () => {
    const tally = await cluster.actor(Tally);
    const back = await cluster.run((h: ActorHandle<Tally>) => h, tally);
    expect(back).toBe(tally);
    await tally.kill();
  });
});
