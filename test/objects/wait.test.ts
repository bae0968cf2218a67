// cluster.wait (first k of n, a timeout that leaves the rest pending) and cluster.asCompleted
// (completion order, failed refs count as done), in both modes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type Cluster, type ObjectRef } from 'clustrix';
import { MODES, openCluster, type Opened } from './modes.js';

const after = async (ms: number, v: string): Promise<string> => {
  await new Promise((r) => setTimeout(r, ms));
  return v;
};

describe.each(MODES)('wait and asCompleted (%s)', (mode) => {
  let opened: Opened;
  let cluster: Cluster;
  beforeAll(async () => {
    opened = await openCluster(mode, { agents: 2, slots: 2 });
    cluster = opened.cluster;
  });
  afterAll(async () => {
    await opened?.close();
  });

  it('wait({ count: 1 }) settles with the fast ref ready and the slow one pending', async () => {
    const slow = cluster.submit(after, 1_500, 'slow');
    const fast = cluster.submit(after, 10, 'fast');
    const { ready, pending } = await cluster.wait([slow, fast], { count: 1 });
    expect(ready.map((r) => r.objectId)).toEqual([fast.objectId]);
    expect(pending.map((r) => r.objectId)).toEqual([slow.objectId]);
    // Leaves no task running behind for the next test's timing.
    expect(await slow).toBe('slow');
  });

  it('a timeout settles with what is done by then', async () => {
    const slow = cluster.submit(after, 1_500, 'slow');
    const started = Date.now();
    const { ready, pending } = await cluster.wait([slow], { timeoutMs: 200 });
    expect(Date.now() - started).toBeLessThan(1_400);
    expect(ready).toEqual([]);
    expect(pending.map((r) => r.objectId)).toEqual([slow.objectId]);
    expect(await slow).toBe('slow');
  });

  it('waits for all by default; a put value is done at once', async () => {
    const put = cluster.put([1, 2, 3]);
    const a = cluster.submit(after, 50, 'a');
    const { ready, pending } = await cluster.wait([a, put]);
    expect(ready.map((r) => r.objectId)).toEqual([a.objectId, put.objectId]);
    expect(pending).toEqual([]);
  });

  it('asCompleted yields in completion order; a failed ref is done too', async () => {
    const c = cluster.submit(after, 1_600, 'c');
    const bad = cluster.submit(async () => {
      await new Promise((r) => setTimeout(r, 800));
      throw new Error('broken');
    });
    const a = cluster.submit(after, 10, 'a');
    const seen: string[] = [];
    for await (const ref of cluster.asCompleted([c, bad, a])) seen.push((ref as unknown as ObjectRef).objectId); // typed as its value: TS awaits what for-await yields
    expect(seen).toEqual([a.objectId, bad.objectId, c.objectId]);
    expect(await c).toBe('c');
    await expect(bad).rejects.toThrow(/broken/);
  });

  it('refuses bad options with a ConfigError', async () => {
    const a = cluster.put(1);
    await expect(cluster.wait([a], { count: 0 })).rejects.toBeInstanceOf(ConfigError);
    await expect(cluster.wait([a], { timeoutMs: -1 })).rejects.toBeInstanceOf(ConfigError);
    await expect(cluster.wait([1 as never])).rejects.toBeInstanceOf(ConfigError);
  });
});
