// Issue 12, item 1: values msgpack would change silently (a function arriving as undefined, a
// Promise as {}, a socket as a plain object, a class instance without its methods) or cannot pack
// (a symbol) are refused on both sides with ARGS_NOT_SERIALIZABLE / RESULT_NOT_SERIALIZABLE,
// naming the path and what to do, in both modes; nothing is sent and every link stays up.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArgsNotSerializableError, Cluster, ResultNotSerializableError } from 'clustrix';
import { ClusterService } from '../../dist/coordinator/service/index.js';

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
  norm(): number {
    return Math.hypot(this.x, this.y);
  }
}

const echo = (...args: unknown[]): unknown => args.length;

const modes: [string, () => Promise<{ cluster: Cluster; stop: () => Promise<void> }>][] = [
  [
    'Cluster.start',
    async () => {
      const cluster = await Cluster.start({ agents: 1, slots: 1 });
      return { cluster, stop: () => cluster.close() };
    },
  ],
  [
    'Cluster.connect',
    async () => {
      const service = await ClusterService.start({ profile: 'unsendable-test', cluster: { agents: 1, slots: 1 }, writeStateFile: false });
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

async function refusal(p: Promise<unknown>): Promise<ArgsNotSerializableError | ResultNotSerializableError> {
  const err = await p.then(
    (v) => {
      throw new Error(`expected a refusal, got ${String(v)}`);
    },
    (e: unknown) => e,
  );
  if (err instanceof ArgsNotSerializableError || err instanceof ResultNotSerializableError) return err;
  throw err;
}

describe.each(modes)('values that cannot travel, %s', (_mode, open) => {
  let cluster: Cluster;
  let stop: () => Promise<void>;
  let socket: net.Socket;
  beforeAll(async () => {
    ({ cluster, stop } = await open());
    socket = new net.Socket();
  });
  afterAll(async () => {
    socket?.destroy();
    await stop?.();
  });

  it.each([
    ['a function deep in an option bag', () => [1, { opts: { onDone: () => undefined } }], 'args[1].opts.onDone', /is a function \(onDone\)/, /make it a task of its own/],
    ['a Promise', () => [Promise.resolve(1)], 'args[0]', /is a Promise/, /await it first/],
    ['a socket', () => [{ conn: socket }], 'args[0].conn', /is a Socket \(an EventEmitter/, /pass the data read from it/],
    ['a symbol', () => [[1, Symbol('s')]], 'args[0][1]', /is a symbol \(Symbol\(s\)\)/, /use a string/],
    ['an async generator', () => [(async function* gen() {})()], 'args[0]', /is an async generator/, /iterate it first/],
    ['a class instance', () => [new Map([['p', new Point(3, 4)]])], 'args[0].get("p")', /is an instance of class Point/, /its methods would not travel/],
    ['a WeakMap', () => [{ w: new WeakMap() }], 'args[0].w', /is a WeakMap/, /pass a Map/],
  ])('run refuses %s as an argument, naming the path', async (_label, make, path, what, hint) => {
    const err = await refusal(cluster.run(echo, ...(make() as unknown[])));
    expect(err).toBeInstanceOf(ArgsNotSerializableError);
    expect(err.code).toBe('ARGS_NOT_SERIALIZABLE');
    expect(err.path).toBe(path);
    expect(err.message).toMatch(what);
    expect(err.hint).toMatch(hint);
  });

  it('map, stream, broadcast, remote and actor calls refuse the same way', async () => {
    const fn = (x: unknown): unknown => x;
    expect((await refusal(cluster.map(fn, [1, () => 2]))).path).toBe('args[0]');
    expect((await refusal(cluster.remote(fn)(Promise.resolve(3)))).path).toBe('args[0]');
    expect((await refusal(cluster.broadcast(fn, { f: fn }))).path).toBe('args[0].f');
    class Box {
      put(v: unknown): unknown {
        return v;
      }
    }
    const box = await cluster.actor(Box);
    expect((await refusal(box.call('put', { p: new Point(1, 1) }))).path).toBe('args[0].p');
    await box.kill();
    await expect(refusal(cluster.actor(Box, { args: [() => 1] as never }))).resolves.toBeInstanceOf(ArgsNotSerializableError);
  });

  it.each([
    ['a function', () => ({ handlers: [() => 1] }), 'result.handlers[0]', /is a function/],
    ['a Promise inside an object', () => ({ later: Promise.resolve(1) }), 'result.later', /is a Promise/],
    ['a class instance', () => new (class Temperature { c = 20; f() { return this.c * 1.8 + 32; } })(), 'result', /is an instance of class Temperature/],
    ['a symbol', () => Symbol.for('x'), 'result', /is a symbol/],
  ])('a task returning %s fails with RESULT_NOT_SERIALIZABLE and the path', async (_label, task, path, what) => {
    const err = await refusal(cluster.run(task as () => unknown));
    expect(err).toBeInstanceOf(ResultNotSerializableError);
    expect(err.code).toBe('RESULT_NOT_SERIALIZABLE');
    expect(err.path).toBe(path);
    expect(err.message).toMatch(what);
    expect(err.hint).toBeTruthy();
  });

  it('inline tasks, chunked maps and actor call results are checked too', async () => {
    const inline = await refusal(cluster.remote(async () => ({ cb: () => 1 }), { inline: true })());
    expect(inline).toBeInstanceOf(ResultNotSerializableError);
    expect(inline.path).toBe('result.cb');
    const chunked = await refusal(cluster.map((x: number) => (x === 2 ? { f: () => x } : x), [0, 1, 2, 3], { chunkSize: 4 }));
    expect(chunked).toBeInstanceOf(ResultNotSerializableError);
    expect(chunked.path).toBe('result.f');
    expect(chunked.message).toMatch(/item 2 of a chunk of 4/);
    class Leaky {
      get(): unknown {
        return { timer: setInterval(() => undefined, 1000) };
      }
    }
    const leaky = await cluster.actor(Leaky);
    const err = await refusal(leaky.call('get'));
    expect(err).toBeInstanceOf(ResultNotSerializableError);
    expect(err.path).toBe('result.timer');
    await leaky.kill();
  });

  it('what travels still arrives exactly, and the agent is the same one', async () => {
    const before = (await cluster.agents()).map((a) => a.pid);
    const value = {
      m: new Map<unknown, unknown>([[1, new Set([2n])]]),
      d: new Date(0),
      r: /a+b/gi,
      e: new RangeError('out'),
      u: new URL('https://example.com/x'),
      b: new Float64Array([1.5]),
      nil: Object.assign(Object.create(null) as object, { k: 1 }),
    };
    value.m.set('self', value);
    const back = (await cluster.run((v: typeof value) => v, value)) as typeof value;
    expect(back.m.get(1)).toEqual(new Set([2n]));
    expect(back.m.get('self')).toBe(back);
    expect(back.d).toEqual(new Date(0));
    expect(back.r).toEqual(/a+b/gi);
    expect(back.e).toBeInstanceOf(RangeError);
    expect(back.u).toBe('https://example.com/x');
    expect(back.b).toEqual(new Float64Array([1.5]));
    expect((await cluster.agents()).map((a) => a.pid)).toEqual(before);
  });
});
