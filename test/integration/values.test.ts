// Arguments and results cross to the agent and back with their types: Map, Set, Date, BigInt,
// typed arrays, nested objects, undefined, cyclic data.
import { describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';

describe.each(MODES)('$name', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 1, slots: 1 }, (c) => (cluster = c));

  const echo = <T>(value: T): T => value;
  const roundTrip = <T>(value: T): Promise<T> => cluster.run(echo, value) as Promise<T>;

  describe('round trip of', () => {
    it('a Map, with non-string keys', async () => {
      const value = new Map<unknown, unknown>([['a', 1], [2, 'two'], ['nested', new Map([['x', [1, 2]]])]]);
      const back = await roundTrip(value);
      expect(back).toBeInstanceOf(Map);
      expect(back).toEqual(value);
      expect(back.get(2)).toBe('two');
    });

    it('a Set', async () => {
      const back = await roundTrip(new Set([1, 'a', 3]));
      expect(back).toBeInstanceOf(Set);
      expect([...back]).toEqual([1, 'a', 3]);
    });

    it('a Date, to the millisecond', async () => {
      const value = new Date('2024-02-29T12:34:56.789Z');
      const back = await roundTrip(value);
      expect(back).toBeInstanceOf(Date);
      expect(back.getTime()).toBe(value.getTime());
    });

    it.each([
      ['small', 5n],
      ['zero', 0n],
      ['negative', -42n],
      ['2^63 - 1', 2n ** 63n - 1n],
      ['past 2^64', 2n ** 64n + 12_345n],
      ['far past 2^64', 2n ** 200n + 1n],
      ['negative past -2^64', -(2n ** 80n) - 7n],
    ])('a BigInt (%s)', async (_label, value) => {
      const back = await roundTrip(value);
      expect(typeof back).toBe('bigint');
      expect(back).toBe(value);
    });

    it('large safe integers stay numbers', async () => {
      const back = await roundTrip([Number.MAX_SAFE_INTEGER, 2 ** 40, -(2 ** 50)]);
      expect(back).toEqual([Number.MAX_SAFE_INTEGER, 2 ** 40, -(2 ** 50)]);
      for (const n of back) expect(typeof n).toBe('number');
    });

    it('a Float64Array', async () => {
      const back = await roundTrip(new Float64Array([1.5, -0.25, Math.PI, Number.MAX_VALUE]));
      expect(back).toBeInstanceOf(Float64Array);
      expect(Array.from(back)).toEqual([1.5, -0.25, Math.PI, Number.MAX_VALUE]);
    });

    it('a Uint8Array', async () => {
      const back = await roundTrip(new Uint8Array([0, 1, 254, 255]));
      expect(back).toBeInstanceOf(Uint8Array);
      expect(Array.from(back)).toEqual([0, 1, 254, 255]);
    });

    it('a nested object', async () => {
      const value = { a: { b: { c: [1, { d: 'deep', e: [true, false, null] }] } }, list: [[1], [2, [3]]], s: 'x'.repeat(1_000) };
      expect(await roundTrip(value)).toStrictEqual(value);
    });

    it('undefined inside arrays and objects', async () => {
      const back = await roundTrip({ list: [1, undefined, 3], field: undefined, other: 1 });
      expect(back.list).toHaveLength(3);
      expect(back.list[1]).toBeUndefined();
      expect('field' in back).toBe(true);
      expect(back.field).toBeUndefined();
      expect(back.other).toBe(1);
    });

    it('a cyclic object', async () => {
      const value: { name: string; self?: unknown; children: unknown[] } = { name: 'root', children: [] };
      value.self = value;
      value.children.push({ parent: value });
      const back = await roundTrip(value);
      expect(back.name).toBe('root');
      expect(back.self).toBe(back);
      expect((back.children[0] as { parent: unknown }).parent).toBe(back);
    });

    it('the same object twice keeps its identity', async () => {
      const shared = { n: 1 };
      const back = await roundTrip([shared, shared]);
      expect(back[0]).toBe(back[1]);
    });
  });

  describe('on the agent, arguments are the real types', () => {
    it('for every kind at once', async () => {
      const report = await cluster.run(
        (v: { m: Map<string, number>; s: Set<number>; d: Date; b: bigint; f: Float64Array; u: Uint8Array }) => ({
          map: v.m instanceof Map && v.m.get('k') === 1,
          set: v.s instanceof Set && v.s.has(2),
          date: v.d instanceof Date && v.d.getUTCFullYear() === 2000,
          bigint: typeof v.b === 'bigint' && v.b === 2n ** 70n,
          float64: v.f instanceof Float64Array && v.f[1] === 2.5,
          uint8: v.u instanceof Uint8Array && v.u[2] === 3,
        }),
        { m: new Map([['k', 1]]), s: new Set([2]), d: new Date(Date.UTC(2000, 0, 1)), b: 2n ** 70n, f: new Float64Array([1, 2.5]), u: new Uint8Array([1, 2, 3]) },
      );
      expect(report).toEqual({ map: true, set: true, date: true, bigint: true, float64: true, uint8: true });
    });

    it('and values built on the agent come back typed, cycles included', async () => {
      const back = await cluster.run(() => {
        const node: { id: number; next?: unknown } = { id: 1 };
        node.next = node;
        return { when: new Date(0), ids: new Set([1, 2]), index: new Map([[1n, 'one']]), node };
      });
      expect(back.when).toBeInstanceOf(Date);
      expect(back.ids).toEqual(new Set([1, 2]));
      expect(back.index.get(1n)).toBe('one');
      expect(back.node.next).toBe(back.node);
    });
  });
});
