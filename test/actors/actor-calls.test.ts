import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, RemoteError } from 'clustrix';
import { MODES, type ClusterHandle } from '../helpers/modes.js';

class Counter {
  n: number;
  constructor(start: number) {
    this.n = start;
  }
  add(k: number): number {
    this.n += k;
    return this.n;
  }
  get(): number {
    return this.n;
  }
  fail(): never {
    throw new RangeError('no such thing');
  }
}

describe.each(MODES)('actor calls ($name)', (mode) => {
  let cluster: Cluster;
  let handle: ClusterHandle | undefined;
  beforeAll(async () => {
    handle = await mode.start({ agents: 2, slots: 2 });
    cluster = handle.cluster;
  });
  afterAll(() => handle?.close());

  it('runs 10,000 increments from 10 concurrent callers in order, to the right total', async () => {
    const counter = await cluster.actor(Counter, { args: [0] });
    const seen: number[][] = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const mine: number[] = [];
        // Each caller pipelines its 1,000 calls, then awaits them all.
        const calls = Array.from({ length: 1_000 }, () => counter.call('add', 1));
        for (const v of await Promise.all(calls)) mine.push(v);
        return mine;
      }),
    );
    expect(await counter.call('get')).toBe(10_000);
    // Calls run one at a time: every intermediate total is returned exactly once.
    expect(new Set(seen.flat()).size).toBe(10_000);
    // And in the order each caller issued them.
    for (const mine of seen) expect(mine).toEqual([...mine].sort((a, b) => a - b));
    await counter.kill();
  });

  it('offers a typed proxy', async () => {
    const counter = await cluster.actor(Counter, { args: [5] });
    expect(await counter.proxy.add(2)).toBe(7);
    expect(await counter.proxy.get()).toBe(7);
    await counter.kill();
  });

  it('a method that throws rejects with the remote error and keeps the actor alive', async () => {
    const counter = await cluster.actor(Counter, { args: [1] });
    await counter.call('add', 1);
    const err = await counter.call('fail').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).remoteName).toBe('RangeError');
    expect((err as RemoteError).remoteMessage).toBe('no such thing');
    expect(await counter.call('get')).toBe(2);
    expect(counter.state).toBe('alive');
    await counter.kill();
  });

  it('a constructor that throws rejects actor() with the remote error', async () => {
    class Broken {
      constructor() {
        throw new TypeError('cannot build');
      }
    }
    const err = await cluster.actor(Broken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).remoteName).toBe('TypeError');
    expect((err as RemoteError).remoteMessage).toBe('cannot build');
  });

  it('an unknown method rejects with a clear error', async () => {
    const counter = await cluster.actor(Counter, { args: [0] });
    const err = await (counter as unknown as { call(m: string): Promise<unknown> }).call('nope').catch((e: unknown) => e);
    expect((err as RemoteError).remoteMessage).toBe("Counter has no method 'nope'");
    await counter.kill();
  });

  it('kill() ends the actor: later calls reject with ACTOR_DIED', async () => {
    const counter = await cluster.actor(Counter, { args: [0] });
    await counter.kill();
    await expect(counter.call('get')).rejects.toMatchObject({ code: 'ACTOR_DIED' });
    expect((await cluster.actors()).find((a) => a.id === counter.id)?.state).toBe('dead');
  });

  it('lists actors with their class, agent, state and calls served', async () => {
    const counter = await cluster.actor(Counter, { args: [0] });
    await counter.call('add', 1);
    await counter.call('add', 1);
    const row = (await cluster.actors()).find((a) => a.id === counter.id);
    expect(row).toMatchObject({ className: 'Counter', state: 'alive', callsServed: 2, restarts: 0 });
    expect((await cluster.agents()).map((a) => a.id)).toContain(row?.agentId);
    await counter.kill();
  });

  it('runs a class from a module (tasks.cls) that imports other files', async () => {
    const tasks = await cluster.module<typeof import('../fixtures/actors/account.js')>(new URL('../fixtures/actors/account.ts', import.meta.url));
    const account = await cluster.actor(tasks.cls('Account'), { args: [1_000] });
    expect(await account.call('withdraw', 100)).toBe(899);
    await expect(account.call('withdraw', 5_000)).rejects.toMatchObject({ remoteName: 'RangeError' });
    await account.kill();
  });

  it('places an actor on a chosen agent and keeps tasks off the slot it holds', async () => {
    const target = (await cluster.agents())[1]!;
    const counter = await cluster.actor(Counter, { args: [0], agent: target.id });
    expect((await cluster.actors()).find((a) => a.id === counter.id)?.agentId).toBe(target.id);
    await expect(cluster.actor(Counter, { args: [0], agent: 'no-such-agent' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await counter.kill();
  });
});
