// cluster.stream: every index exactly once, in completion order.
import { describe, expect, it } from 'vitest';
import { Cluster, RemoteError } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';

describe.each(MODES)('$name', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 2, slots: 1 }, (c) => (cluster = c));

  const sleepy = async (ms: number): Promise<number> => {
    await new Promise((r) => setTimeout(r, ms));
    return ms;
  };

  async function collect<T>(stream: AsyncIterable<{ index: number; value: T }>): Promise<{ index: number; value: T }[]> {
    const out: { index: number; value: T }[] = [];
    for await (const r of stream) out.push(r);
    return out;
  }

  describe('stream', () => {
    it('yields every index exactly once with its value', async () => {
      const items = Array.from({ length: 200 }, (_, i) => i);
      const results = await collect(cluster.stream((x: number) => x + 1000, items));
      expect(results).toHaveLength(items.length);
      expect(results.map((r) => r.index).sort((a, b) => a - b)).toEqual(items);
      for (const r of results) expect(r.value).toBe(r.index + 1000);
    });

    it('yields in completion order, not input order', async () => {
      // The first item sleeps far longer than all the others together.
      const delays = [1_500, 0, 0, 0, 0, 0, 0, 0];
      const results = await collect(cluster.stream(sleepy, delays, { inline: true }));
      expect(results.map((r) => r.index).sort((a, b) => a - b)).toEqual(delays.map((_, i) => i));
      expect(results.at(-1)).toEqual({ index: 0, value: 1_500 });
    });

    it('with chunkSize yields every index once, also for a short last chunk', async () => {
      const items = Array.from({ length: 23 }, (_, i) => i);
      const results = await collect(cluster.stream((x: number) => x * 10, items, { chunkSize: 5 }));
      expect(results.map((r) => r.index).sort((a, b) => a - b)).toEqual(items);
      for (const r of results) expect(r.value).toBe(r.index * 10);
    });

    it('over an async generator', async () => {
      async function* gen(): AsyncGenerator<string> {
        for (const s of ['a', 'b', 'c']) yield s;
      }
      const results = await collect(cluster.stream((s: string) => s.toUpperCase(), gen()));
      expect(results.sort((a, b) => a.index - b.index)).toEqual([
        { index: 0, value: 'A' },
        { index: 1, value: 'B' },
        { index: 2, value: 'C' },
      ]);
    });

    it('throws the first failure from the loop', async () => {
      const failOnTwo = (x: number): number => {
        if (x === 2) throw new Error('two is bad');
        return x;
      };
      await expect(collect(cluster.stream(failOnTwo, [0, 1, 2, 3]))).rejects.toBeInstanceOf(RemoteError);
    });

    it('can be left early, and the cluster keeps working', async () => {
      let seen = 0;
      for await (const _ of cluster.stream(sleepy, [0, 0, 0, 2_000, 2_000], { inline: true })) {
        if (++seen === 2) break;
      }
      expect(seen).toBe(2);
      expect(await cluster.run((x: number) => x * 2, 21)).toBe(42);
    });
  });
});
