// Actors from a connected client: `clustrix up local -n 2` as a real background process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorDiedError, ActorHandle, Cluster, RemoteError, TimeoutError } from 'clustrix';
type ClusterClient = Cluster;
import { isAlive, waitUntil } from '../helpers/processes.js';
import { cli, isolatedEnv } from './cli-helpers.js';

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
  async slow(ms: number): Promise<number> {
    await new Promise((r) => setTimeout(r, ms));
    return ms;
  }
}

const env = isolatedEnv();
let servicePid = 0;
let client: ClusterClient;

beforeAll(async () => {
  const r = await cli(['up', 'local', '-n', '2', '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  servicePid = (JSON.parse(r.stdout) as { pid: number }).pid;
  client = await Cluster.connect({ env });
});

afterAll(async () => {
  await client?.close();
  if (servicePid && isAlive(servicePid)) {
    await cli(['down', 'local'], env);
    if (isAlive(servicePid)) process.kill(servicePid, 'SIGKILL');
  }
});

describe('actors from a connected client', () => {
  it('creates a counter and runs 1,000 pipelined calls in order', async () => {
    const counter = await client.actor(Counter, { args: [0] });
    expect(counter).toBeInstanceOf(ActorHandle);
    expect(counter.className).toBe('Counter');
    expect(counter.state).toBe('alive');
    expect(counter.restarts).toBe(0);
    const results = await Promise.all(Array.from({ length: 1_000 }, () => counter.call('add', 1)));
    expect(results).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1));
    expect(await counter.call('get')).toBe(1_000);
    const row = (await client.actors()).find((a) => a.id === counter.id);
    expect(row).toMatchObject({ className: 'Counter', state: 'alive', callsServed: 1_001, restarts: 0 });
    await counter.kill();
  });

  it('offers the typed proxy', async () => {
    const counter = await client.actor(Counter, { args: [5] });
    expect(await counter.proxy.add(2)).toBe(7);
    expect(await counter.proxy.get()).toBe(7);
    await counter.kill();
  });

  it('a method that throws rejects with RemoteError and keeps the actor alive', async () => {
    const counter = await client.actor(Counter, { args: [1] });
    await counter.call('add', 1);
    const err = await counter.call('fail').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).remoteName).toBe('RangeError');
    expect((err as RemoteError).remoteMessage).toBe('no such thing');
    expect((err as RemoteError).message).toContain(`on actor ${counter.id}`);
    expect(await counter.call('get')).toBe(2);
    expect(counter.state).toBe('alive');
    await counter.kill();
  });

  it('a constructor that throws rejects actor() with RemoteError; bad options with ConfigError', async () => {
    class Broken {
      constructor() {
        throw new TypeError('cannot build');
      }
    }
    const err = await client.actor(Broken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect((err as RemoteError).remoteName).toBe('TypeError');
    await expect(client.actor(Counter, { bogus: 1 } as never)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/^options\.bogus: unknown key \(allowed: args, /) });
  });

  it('a call past timeoutMs rejects with TimeoutError', async () => {
    const counter = await client.actor(Counter, { args: [0], timeoutMs: 200, maxConcurrency: 2 });
    const err = await counter.call('slow', 5_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ code: 'TASK_TIMEOUT' });
    await counter.kill();
  });

  it('kill() ends the actor: later calls reject with ActorDiedError (ACTOR_DIED)', async () => {
    const counter = await client.actor(Counter, { args: [0] });
    await counter.kill();
    expect(counter.state).toBe('dead');
    const err = await counter.call('get').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActorDiedError);
    expect(err).toMatchObject({ code: 'ACTOR_DIED', actorId: counter.id });
    expect((await client.actors()).find((a) => a.id === counter.id)?.state).toBe('dead');
  });

  it('runs a module class (tasks.cls) and passes a handle to a task', async () => {
    const tasks = await client.module<typeof import('../fixtures/actors/account.js')>(new URL('../fixtures/actors/account.ts', import.meta.url));
    const account = await client.actor(tasks.cls('Account'), { args: [1_000] });
    expect(account.className).toBe('Account');
    expect(await account.call('withdraw', 100)).toBe(899);
    await expect(account.call('withdraw', 5_000)).rejects.toMatchObject({ code: 'REMOTE_ERROR', remoteName: 'RangeError' });
    // Each actor holds a slot and the pool has two: free one for the task below.
    await account.kill();
    const counter = await client.actor(Counter, { args: [10] });
    // The handle travels as a ref; the task's calls are routed by the service's coordinator.
    expect(await client.run(async (c: ActorHandle<Counter>) => c.call('add', 5), counter)).toBe(15);
    expect(await counter.call('get')).toBe(15);
    await counter.kill();
  });

  it('a named actor is visible to a second client; a second create with its name fails unless getIfExists', async () => {
    const cache = await client.actor(Counter, { args: [0], name: 'shared' });
    await cache.call('add', 3);
    const other = await Cluster.connect({ env });
    try {
      const again = await other.getActor<Counter>('shared');
      expect(again?.id).toBe(cache.id);
      expect(await again!.call('add', 1)).toBe(4);
      expect(await other.getActor('nobody')).toBeUndefined();
      await expect(other.actor(Counter, { args: [0], name: 'shared' })).rejects.toMatchObject({ code: 'ACTOR_NAME_TAKEN', name: 'ActorNameTakenError' });
      const same = await other.actor(Counter, { args: [0], name: 'shared', getIfExists: true });
      expect(same.id).toBe(cache.id);
    } finally {
      await other.close();
    }
    // Closing the second client leaves the named actor alone.
    expect(await cache.call('get')).toBe(4);
    await cache.kill();
    expect(await client.getActor('shared')).toBeUndefined();
  });

  it("kills a client's unnamed actors when it closes; its named one survives", async () => {
    const leaving = await Cluster.connect({ env });
    const mine = await leaving.actor(Counter, { args: [0] });
    const named = await leaving.actor(Counter, { args: [100], name: 'survivor' });
    await mine.call('add', 1);
    await leaving.close();
    expect(mine.state).toBe('dead');
    await expect(mine.call('get')).rejects.toMatchObject({ code: 'ACTOR_DIED' });
    await waitUntil(async () => (await client.actors()).find((a) => a.id === mine.id)?.state === 'dead', {
      timeoutMs: 10_000,
      intervalMs: 100,
      what: 'the unnamed actor of the closed client to be killed',
    });
    const survivor = await client.getActor<Counter>('survivor');
    expect(survivor?.id).toBe(named.id);
    expect(await survivor!.call('add', 1)).toBe(101);
    expect((await client.actors()).find((a) => a.id === named.id)?.state).toBe('alive');
    await survivor!.kill();
  });
});
