// Refs as arguments of actor calls: a top-level ref arrives as its value, on the actor's agent;
// calls keep their order even when one waits for its ref's task; a failed ref fails that call.
// Refs work the same from tasks and from other actors, and as constructor arguments (resolved on
// the actor's agent before the constructor runs, again at each restart).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'clustrix';
import { waitUntil } from '../helpers/processes.js';
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

class Forwarder {
  forward(to: { call(method: string, ...args: unknown[]): Promise<unknown> }, box: { ref: unknown }): Promise<unknown> {
    return to.call('add', box.ref);
  }
}

class Model {
  weights: Float64Array;
  label: string;
  constructor(cfg: { scale: number; label: string }, weights: Float64Array, extra: { later: PromiseLike<string> }) {
    this.label = cfg.label;
    this.weights = weights.map((w) => w * cfg.scale);
    this.extra = extra.later;
  }
  extra: PromiseLike<string>;
  sum(): number {
    return this.weights.reduce((s, w) => s + w, 0);
  }
  async describe(): Promise<string> {
    return `${this.label}:${await this.extra}`;
  }
  pid(): number {
    return process.pid;
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

  it('a task passes a ref it was given to an actor: the actor gets the value', async () => {
    const log = await cluster.actor(Log);
    const data = cluster.put('from a task');
    const n = await cluster.run(async (h: { call(m: string, ...a: unknown[]): Promise<unknown> }, box: { ref: unknown }) => h.call('add', box.ref), log, { ref: data });
    expect(n).toBe(1);
    const made = cluster.submit(() => new Uint8Array(120_000));
    expect(await cluster.run(async (h: { call(m: string, ...a: unknown[]): Promise<unknown> }, box: { ref: unknown }) => h.call('add', box.ref), log, { ref: made })).toBe(2);
    expect(await log.call('list')).toEqual(['from a task', 'bytes:120000']);
    await log.kill();
  });

  it('an actor passes a ref it was given to another actor', async () => {
    const log = await cluster.actor(Log);
    const fwd = await cluster.actor(Forwarder);
    expect(await fwd.call('forward', log, { ref: cluster.put('via an actor') })).toBe(1);
    expect(await log.call('list')).toEqual(['via an actor']);
    await Promise.all([log.kill(), fwd.kill()]);
  });

  it('constructor arguments may be refs: resolved on the actor agent, also after a restart', { timeout: 60_000 }, async () => {
    const cfg = cluster.put({ scale: 3, label: 'm' });
    const weights = cluster.submit(() => new Float64Array([1, 2, 3]));
    const later = cluster.put('nested');
    const model = await cluster.actor(Model, { args: [cfg, weights, { later }], maxRestarts: 1 });
    expect(await model.call('sum')).toBe(18);
    expect(await model.call('describe')).toBe('m:nested');
    // Its agent dies: the constructor runs again elsewhere, with the refs' values fetched again.
    const pid = (await model.call('pid')) as number;
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => model.restarts === 1 && model.state === 'alive', { timeoutMs: 30_000, what: 'the model to come back' });
    expect(await model.call('sum')).toBe(18);
    expect(await model.call('describe')).toBe('m:nested');
    await model.kill();
  });

  it('a constructor ref whose task failed fails the creation with its error', async () => {
    const bad = cluster.submit((): number => {
      throw new Error('no config');
    });
    await expect(cluster.actor(Model, { args: [bad, new Float64Array(1), { later: cluster.put('x') }] as never })).rejects.toThrow(/no config/);
  });
});
