// Refs as arguments of actor calls: a top-level ref arrives as its value, on the actor's agent;
// calls keep their order even when one waits for its ref's task; a failed ref fails that call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type Cluster } from 'clustrix';
import { MODES, openCluster, type Opened } from './modes.js';

class Log {
  items: string[] = [];
  add(x: string | Uint8Array): number {
    this.items.push(typeof x === 'string' ? x : `bytes:${x.length}`);
    return this.items.length;
  }
  list(): string[] {
    return this.items;
  }
}

describe.each(MODES)('refs in actor calls (%s)', (mode) => {
  let opened: Opened;
  let cluster: Cluster;
  beforeAll(async () => {
    opened = await openCluster(mode, { agents: 2, slots: 2 });
    cluster = opened.cluster;
  });
  afterAll(async () => {
    await opened?.close();
  });

  it('resolves ref arguments on the actor, in call order', async () => {
    const log = await cluster.actor(Log);
    const slow = cluster.submit(async () => {
      await new Promise((r) => setTimeout(r, 300));
      return new Uint8Array(150_000);
    });
    const put = cluster.put('from put');
    const calls = [log.call('add', 'first'), log.call('add', slow), log.call('add', 'third'), log.call('add', put)];
    expect(await Promise.all(calls)).toEqual([1, 2, 3, 4]);
    expect(await log.call('list')).toEqual(['first', 'bytes:150000', 'third', 'from put']);
    await log.kill();
  });

  it('a ref whose task failed fails that call only', async () => {
    const log = await cluster.actor(Log);
    const bad = cluster.submit((): string => {
      throw new Error('no value');
    });
    await expect(log.call('add', bad)).rejects.toThrow(/no value/);
    expect(await log.call('add', 'after')).toBe(1);
    await log.kill();
  });

  it('refuses refs as constructor arguments, by name', async () => {
    await expect(cluster.actor(Log, { args: [cluster.put(1)] as never })).rejects.toBeInstanceOf(ConfigError);
  });
});
