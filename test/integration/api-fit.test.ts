// Issue 12, item 7: a remote() function goes wherever a function goes (it used to fail with a
// ClosureError naming clustrix's own variables), `call` takes per-call options without remote(),
// `map` takes fixed extra arguments, `zipMap` runs over several iterables in step, and a duplicate
// actor name is ActorNameTakenError; in both modes. The types are checked by the typecheck step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorNameTakenError, Cluster, ConfigError, TimeoutError } from 'clustrix';
import { ClusterService } from '../../dist/coordinator/service/index.js';

const modes: [string, () => Promise<{ cluster: Cluster; stop: () => Promise<void> }>][] = [
  [
    'Cluster.start',
    async () => {
      const cluster = await Cluster.start({ agents: 1, slots: 2 });
      return { cluster, stop: () => cluster.close() };
    },
  ],
  [
    'Cluster.connect',
    async () => {
      const service = await ClusterService.start({ profile: 'api-fit-test', cluster: { agents: 1, slots: 2 }, writeStateFile: false });
      const cluster = await Cluster.connect({ address: service.address, credential: service.credential });
      return {
        cluster,
        stop: async () => {
          await cluster.close();
          await service.stop('test done');
        },
      };
    },
  ],
];

describe.each(modes)('API fit, %s', (_mode, open) => {
  let cluster: Cluster;
  let stop: () => Promise<void>;
  beforeAll(async () => {
    ({ cluster, stop } = await open());
  });
  afterAll(async () => {
    await stop?.();
  });

  it('a remote() function goes wherever a function goes, with its options', async () => {
    const square = cluster.remote((x: number) => x * x, { retries: 1 });
    expect(await square(3)).toBe(9);
    const mapped: number[] = await cluster.map(square, [1, 2, 3]);
    expect(mapped).toEqual([1, 4, 9]);
    const streamed: number[] = [];
    for await (const { value } of cluster.stream(square, [4, 5])) streamed.push(value);
    expect(streamed.sort((a, b) => a - b)).toEqual([16, 25]);
    expect(await cluster.run(square, 6)).toBe(36);
    expect(await cluster.broadcast(cluster.remote(() => 'hi'))).toEqual(['hi']);
    expect(await cluster.remote(square, { timeoutMs: 5_000 })(7)).toBe(49);
    const slow = cluster.remote(async (ms: number) => new Promise((r) => setTimeout(() => r(ms), ms)), { timeoutMs: 200 });
    await expect(cluster.map(slow, [5_000])).rejects.toBeInstanceOf(TimeoutError);
  });

  it('call(fn, args, options) takes per-call options without remote()', async () => {
    expect(await cluster.call((a: number, b: number) => a + b, [2, 3])).toBe(5);
    const err = await cluster.call(async () => new Promise((r) => setTimeout(r, 5_000)), [], { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    await expect(cluster.call((x: number) => x, [1], { timeoutMs: -1 })).rejects.toBeInstanceOf(ConfigError);
    // @ts-expect-error the arguments are a list
    await expect(cluster.call((x: number) => x, 1)).rejects.toBeInstanceOf(ConfigError);
  });

  it('map and stream pass fixed extra arguments after the item', async () => {
    const scale = (x: number, factor: number, offset: number): number => x * factor + offset;
    expect(await cluster.map(scale, [1, 2, 3], { args: [10, 1] })).toEqual([11, 21, 31]);
    expect(await cluster.map(scale, [1, 2, 3], { args: [10, 1], chunkSize: 2 })).toEqual([11, 21, 31]);
    // @ts-expect-error the extra arguments must fit the function
    await cluster.map(scale, [1], { args: ['x', 1] }).catch(() => undefined);
    await expect(cluster.map(scale, [1], { args: 3 as never })).rejects.toBeInstanceOf(ConfigError);
  });

  it('zipMap runs over several iterables in step, and refuses unequal lengths', async () => {
    const add = (a: number, b: string, c: number): string => `${a}${b}${c}`;
    async function* threes(): AsyncGenerator<string> {
      yield* ['x', 'y', 'z'];
    }
    expect(await cluster.zipMap(add, [[1, 2, 3], threes()], { args: [0] })).toEqual(['1x0', '2y0', '3z0']);
    expect(await cluster.zipMap((a: number, b: number) => a * b, [new Set([1, 2]), [10, 20]], { chunkSize: 2 })).toEqual([10, 40]);
    const err = await cluster.zipMap((a: number, b: number) => a + b, [[1, 2, 3], [1]]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/iterables\[1\] ended after 1 items while iterables\[0\] had more/);
    await expect(cluster.zipMap((a: number) => a, [] as unknown as [number[]])).rejects.toBeInstanceOf(ConfigError);
  });

  it('a duplicate actor name is ActorNameTakenError', async () => {
    class Named {
      ping(): string {
        return 'pong';
      }
    }
    const first = await cluster.actor(Named, { name: 'api-fit-named' });
    const err = await cluster.actor(Named, { name: 'api-fit-named' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ActorNameTakenError);
    expect((err as ActorNameTakenError).actorName).toBe('api-fit-named');
    await first.kill();
  });
});
