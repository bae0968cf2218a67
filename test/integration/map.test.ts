// cluster.map: results in input order, whatever the chunking and whatever kind of iterable.
import { describe, expect, it } from 'vitest';
import { Cluster, ConfigError, RemoteError } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';

describe.each(MODES)('$name', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 2, slots: 1 }, (c) => (cluster = c));

  const square = (x: number): number => x * x;
  const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

  describe('map', () => {
    it('keeps input order', async () => {
      expect(await cluster.map(square, [0, 1, 2, 3, 4])).toEqual([0, 1, 4, 9, 16]);
    });

    it('keeps input order when later items finish first', async () => {
      // Early items sleep longest, so completion order is roughly the reverse of input order.
      const delays = [120, 90, 60, 30, 0, 0];
      const sleepy = async (ms: number): Promise<number> => {
        await new Promise((r) => setTimeout(r, ms));
        return ms;
      };
      expect(await cluster.map(sleepy, delays, { inline: true })).toEqual(delays);
    });

    it('of an empty list is an empty list', async () => {
      expect(await cluster.map(square, [])).toEqual([]);
    });

    it('over many items', async () => {
      expect(await cluster.map(square, range(1_000))).toEqual(range(1_000).map((x) => x * x));
    });
  });

  describe('map with chunkSize', () => {
    const items = range(100);
    const expected = items.map((x) => x * x);

    it.each([1, 2, 7, 10, 100, 250])('%i gives the same results as no chunking', async (chunkSize) => {
      expect(await cluster.map(square, items, { chunkSize })).toEqual(expected);
    });

    it('when the items do not divide evenly (101 items, chunks of 10)', async () => {
      expect(await cluster.map(square, range(101), { chunkSize: 10 })).toEqual(range(101).map((x) => x * x));
    });

    it('passes each item as the single argument, also when the item is an array', async () => {
      const pairs: [number, number][] = [[1, 2], [3, 4], [5, 6]];
      const sum = (p: [number, number]): number => p[0] + p[1];
      expect(await cluster.map(sum, pairs, { chunkSize: 2 })).toEqual([3, 7, 11]);
      expect(await cluster.map(sum, pairs)).toEqual([3, 7, 11]);
    });

    it('refuses a chunkSize of 0 with a ConfigError', async () => {
      await expect(cluster.map(square, items, { chunkSize: 0 })).rejects.toThrow(new ConfigError('options.chunkSize: expected a positive integer, got 0'));
    });
  });

  describe('map over other iterables', () => {
    it('a generator', async () => {
      function* gen(): Generator<number> {
        for (let i = 0; i < 30; i++) yield i;
      }
      expect(await cluster.map(square, gen())).toEqual(range(30).map((x) => x * x));
    });

    it('an async generator', async () => {
      async function* gen(): AsyncGenerator<number> {
        for (let i = 0; i < 30; i++) {
          if (i % 5 === 0) await new Promise((r) => setTimeout(r, 1));
          yield i;
        }
      }
      expect(await cluster.map(square, gen())).toEqual(range(30).map((x) => x * x));
    });

    it('an async generator with chunking', async () => {
      async function* gen(): AsyncGenerator<number> {
        for (let i = 0; i < 33; i++) yield i;
      }
      expect(await cluster.map(square, gen(), { chunkSize: 4 })).toEqual(range(33).map((x) => x * x));
    });

    it('a Set', async () => {
      expect(await cluster.map(square, new Set([3, 1, 2]))).toEqual([9, 1, 4]);
    });

    it('refuses something that is not iterable with a ConfigError', async () => {
      await expect(cluster.map(square, 5 as unknown as number[])).rejects.toThrow(
        new ConfigError('items: expected an iterable or async iterable (an array, a Set, a generator, ...), got 5'),
      );
    });
  });

  describe('map with a failing item', () => {
    it('rejects with the remote error', async () => {
      const failOnThree = (x: number): number => {
        if (x === 3) throw new RangeError(`bad item ${x}`);
        return x;
      };
      const err = await cluster.map(failOnThree, range(10)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as RemoteError).remoteMessage).toBe('bad item 3');
    });

    it('leaves the cluster usable', async () => {
      expect(await cluster.map(square, [1, 2])).toEqual([1, 4]);
    });
  });
});
