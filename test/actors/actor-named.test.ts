import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, ConfigError } from 'clustrix';
import { MODES, type ClusterHandle } from '../helpers/modes.js';

class Cache {
  private readonly entries = new Map<string, string>();
  set(key: string, value: string): number {
    this.entries.set(key, value);
    return this.entries.size;
  }
  get(key: string): string | undefined {
    return this.entries.get(key);
  }
}

describe.each(MODES)('named actors ($name)', (mode) => {
  let cluster: Cluster;
  let handle: ClusterHandle | undefined;
  beforeAll(async () => {
    handle = await mode.start({ agents: 1, slots: 2 });
    cluster = handle.cluster;
  });
  afterAll(() => handle?.close());

  it('getActor(name) returns the same actor from any part of the program', async () => {
    const cache = await cluster.actor(Cache, { name: 'cache' });
    await cache.call('set', 'a', '1');
    const again = await cluster.getActor<Cache>('cache');
    expect(again?.id).toBe(cache.id);
    expect(await again!.call('get', 'a')).toBe('1');
    expect(await cluster.getActor('nobody')).toBeUndefined();
  });

  it('a second create with the same name is an error, unless getIfExists', async () => {
    await expect(cluster.actor(Cache, { name: 'cache' })).rejects.toMatchObject({ code: 'ACTOR_NAME_TAKEN' });
    const same = await cluster.actor(Cache, { name: 'cache', getIfExists: true });
    expect(same.id).toBe((await cluster.getActor('cache'))?.id);
  });

  it('the name is free again once the actor is killed', async () => {
    await (await cluster.getActor('cache'))!.kill();
    expect(await cluster.getActor('cache')).toBeUndefined();
    const fresh = await cluster.actor(Cache, { name: 'cache' });
    expect(await fresh.call('get', 'a')).toBeUndefined();
  });

  it('rejects bad options with a ConfigError naming the option', async () => {
    await expect(cluster.actor(Cache, { maxRestarts: -1 })).rejects.toThrow(new ConfigError('options.maxRestarts: expected a non-negative integer, got -1'));
    await expect(cluster.actor(Cache, { bogus: 1 } as never)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: 'options.bogus: unknown key (allowed: args, name, maxRestarts, maxConcurrency, agent, pool, getIfExists, timeoutMs, resources, checkpoint)',
    });
    await expect(cluster.actor(Cache, { maxRestart: 1 } as never)).rejects.toThrow(/did you mean 'maxRestarts'\?$/);
  });
});
