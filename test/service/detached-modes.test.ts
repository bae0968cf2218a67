// `{ detach: true }` on map, stream and call, in both modes: a connected cluster hands the call to
// its service and collects it by id; an embedded one refuses (nothing would outlive the program)
// with a ConfigError that says to start a service, and so do collect() and collectStream().
import { describe, expect, it } from 'vitest';
import { Cluster, ConfigError } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';

const square = (x: number): number => x * x;
const add = (a: number, b: number): number => a + b;

describe.each(MODES)('detach ($name)', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 1, slots: 2 }, (c) => (cluster = c));

  if (mode.name === 'embedded') {
    it('is refused for map, stream and call with a ConfigError naming the way out', async () => {
      for (const started of [cluster.map(square, [1, 2], { detach: true }), cluster.stream(square, [1, 2], { detach: true }), cluster.call(add, [1, 2], { detach: true })]) {
        const err = await started.catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ConfigError);
        expect((err as ConfigError).message).toMatch(/options\.detach: a detached (map|stream|call) runs in a service/);
        expect((err as ConfigError).hint).toMatch(/clustrix up .*Cluster\.connect\(\)/);
      }
      await expect(cluster.collect('dabc')).rejects.toThrow(/detached calls need a service/);
      await expect(cluster.collectStream('dabc').next()).rejects.toThrow(ConfigError);
      // detach: false is the ordinary call
      expect(await cluster.call(add, [1, 2], { detach: false })).toBe(3);
    });
    return;
  }

  it('runs map, stream and call in the service; collect answers what each would have', async () => {
    const m = await cluster.map(square, [1, 2, 3], { detach: true, chunkSize: 2 });
    const s = await cluster.stream(square, [4, 5], { detach: true });
    const one = await cluster.call(add, [40, 2], { detach: true });
    expect([m.kind, s.kind, one.kind]).toEqual(['map', 'stream', 'call']);
    expect(await cluster.collect<number[]>(m.id)).toEqual([1, 4, 9]);
    expect(await cluster.collect<number[]>(s.id)).toEqual([16, 25]);
    expect(await cluster.collect<number>(one.id)).toBe(42);
    // The history names each task by its detached call: a chunked map of 3 items by 2 is 2 tasks.
    const history = await cluster.history({ callId: m.id });
    expect(history.entries).toHaveLength(2);
    expect(history.entries.every((e) => e.client === 'detached calls' && e.outcome === 'done')).toBe(true);
    const chunked: { index: number; value: number }[] = [];
    for await (const r of cluster.collectStream<number>(m.id)) chunked.push(r);
    expect(chunked.sort((a, b) => a.index - b.index)).toEqual([{ index: 0, value: 1 }, { index: 1, value: 4 }, { index: 2, value: 9 }]);
  });

  it("applies a remote() function's options, and refuses refs, a signal and a bad detach flag", async () => {
    const slow = cluster.remote((ms: number) => new Promise((r) => setTimeout(r, ms)), { timeoutMs: 50 });
    const { id } = await cluster.call(slow, [5_000], { detach: true });
    await expect(cluster.collect(id)).rejects.toMatchObject({ code: 'TASK_TIMEOUT' });
    const ref = cluster.put(1);
    await expect(cluster.call(add, [ref, 1], { detach: true })).rejects.toThrow(/holds refs/);
    await expect(cluster.stream(add, [1], { detach: true, args: [ref] })).rejects.toThrow(/holds refs/);
    // A ref item is read like any item (awaited, so its value travels).
    const s = await cluster.stream(square, [ref], { detach: true });
    expect(await cluster.collect<number[]>(s.id)).toEqual([1]);
    await expect(cluster.call(add, [1, 2], { detach: true, signal: new AbortController().signal })).rejects.toThrow(/no signal/);
    await expect(cluster.call(add, [1, 2], { detach: 'yes' as unknown as boolean })).rejects.toThrow(/options\.detach: expected true or false/);
    await ref.free();
  });
});
