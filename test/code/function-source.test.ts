import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { captureClass, captureFunction, type ShippableClass, type ShippableFunction } from '../../coordinator/code/index.js';

/** What the agent does with a captured source. */
function revive<T>(source: string): T {
  return (0, eval)(`(${source})`) as T;
}

/**
 * Functions made from exact text, so the shape under test (no parentheses, spacing, comments)
 * reaches toString() untouched by the test runner's transform.
 */
function fromText<T>(text: string): T {
  return (0, eval)(`(${text})`) as T;
}

async function collect(iterable: Iterable<unknown> | AsyncIterable<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

type Fn = (...args: never[]) => unknown;

describe('captureFunction round trip', () => {
  const sync: Array<[string, string, unknown[]]> = [
    ['arrow without parentheses', 'x => x * 2', [21]],
    ['arrow with parentheses', '(a, b) => a + b', [2, 3]],
    ['arrow with block body', '(a) => { const b = a + 1; return b * b; }', [3]],
    ['arrow with destructuring and defaults', '({ x, y = 10 }, ...rest) => x + y + rest.length', [{ x: 1 }, 'a', 'b']],
    ['anonymous function expression', 'function (a) { return a - 1; }', [5]],
    ['named function expression calling itself', 'function fact(n) { return n <= 1 ? 1 : n * fact(n - 1); }', [5]],
    ['function with comments inside', 'function /* why */ (a) { // trailing\n return a; }', [7]],
    ['function using arguments', 'function () { return arguments.length; }', [1, 2, 3]],
  ];
  it.each(sync)('%s', (_label, text, args) => {
    const original = fromText<(...a: unknown[]) => unknown>(text);
    const revived = revive<(...a: unknown[]) => unknown>(captureFunction(original).source);
    expect(revived(...args)).toEqual(original(...args));
  });

  it('async arrows, with and without parentheses', async () => {
    for (const text of ['async x => x + 1', 'async (x) => { await null; return x + 1; }']) {
      const revived = revive<(x: number) => Promise<number>>(captureFunction(fromText<Fn>(text)).source);
      await expect(revived(1)).resolves.toBe(2);
    }
  });

  it('async functions, generators and async generators, named and anonymous', async () => {
    const asyncFn = revive<() => Promise<string>>(captureFunction(fromText<Fn>('async function load() { return "ok"; }')).source);
    await expect(asyncFn()).resolves.toBe('ok');
    for (const text of ['function* count(n) { for (let i = 0; i < n; i++) yield i; }', 'function* (n) { yield* [0, 1, 2].slice(0, n); }']) {
      const gen = revive<(n: number) => Iterable<number>>(captureFunction(fromText<Fn>(text)).source);
      await expect(collect(gen(3))).resolves.toEqual([0, 1, 2]);
    }
    for (const text of ['async function* ticks(n) { for (let i = 0; i < n; i++) { await null; yield i; } }', 'async function* (n) { yield n; }']) {
      const gen = revive<(n: number) => AsyncIterable<number>>(captureFunction(fromText<Fn>(text)).source);
      expect((await collect(gen(1)))[0]).toBeDefined();
    }
  });

  it('function declarations', () => {
    function add(a: number, b: number): number {
      return a + b;
    }
    const captured = captureFunction(add);
    expect(captured.name).toBe('add');
    expect(revive<typeof add>(captured.source)(2, 3)).toBe(5);
  });

  it('functions written in this (transformed) test file', async () => {
    const square = (x: number): number => x * x;
    const later = async (x: number): Promise<number> => (await Promise.resolve(x)) * 2;
    expect(revive<typeof square>(captureFunction(square).source)(9)).toBe(81);
    await expect(revive<typeof later>(captureFunction(later).source)(4)).resolves.toBe(8);
  });
});

describe('captureFunction on method shorthand', () => {
  const obj = {
    plain(x: number) {
      return x + 1;
    },
    async later(x: number) {
      return x * 10;
    },
    *gen(n: number) {
      for (let i = 0; i < n; i++) yield i;
    },
    async *agen(n: number) {
      yield n;
      yield n + 1;
    },
    ['a b'](x: number) {
      return `${x} spaced`;
    },
    'string key'(x: number) {
      return x - 1;
    },
    42(x: number) {
      return x * 42;
    },
    [Symbol.iterator]() {
      return [1, 2][Symbol.iterator]();
    },
  };

  it('plain, async, generator and async generator methods', async () => {
    expect(revive<typeof obj.plain>(captureFunction(obj.plain).source)(1)).toBe(2);
    await expect(revive<typeof obj.later>(captureFunction(obj.later).source)(2)).resolves.toBe(20);
    await expect(collect(revive<typeof obj.gen>(captureFunction(obj.gen).source)(3))).resolves.toEqual([0, 1, 2]);
    await expect(collect(revive<typeof obj.agen>(captureFunction(obj.agen).source)(5))).resolves.toEqual([5, 6]);
  });

  it('computed, string, numeric and symbol keys keep their names', () => {
    const cases: Array<[Fn, string, unknown, unknown]> = [
      [obj['a b'], 'a b', 3, '3 spaced'],
      [obj['string key'], 'string key', 3, 2],
      [obj[42], '42', 2, 84],
    ];
    for (const [fn, name, arg, expected] of cases) {
      const captured = captureFunction(fn);
      const revived = revive<(x: unknown) => unknown>(captured.source);
      expect(captured.name).toBe(name);
      expect(revived.name).toBe(name);
      expect(revived(arg)).toBe(expected);
    }
    const iterator = revive<() => Iterator<number>>(captureFunction(obj[Symbol.iterator]).source);
    expect(iterator.name).toBe('[Symbol.iterator]');
    expect(iterator().next().value).toBe(1);
  });

  it('stays a method: not constructible, like the original', () => {
    const revived = revive<new () => unknown>(captureFunction(obj.plain).source);
    expect(() => new revived()).toThrow(TypeError);
  });

  it('methods whose names are keywords that look like function syntax', () => {
    const tricky = fromText<Record<string, Fn>>('{ function(x) { return x + 1; }, async(x) { return x + 2; }, get(x) { return x + 3; } }');
    for (const [name, expected] of [['function', 2], ['async', 3], ['get', 4]] as const) {
      const fn = tricky[name];
      if (!fn) throw new Error(`no method ${name}`);
      const revived = revive<(x: number) => number>(captureFunction(fn).source);
      expect(revived.name).toBe(name);
      expect(revived(1)).toBe(expected);
    }
  });

  it('static and instance methods of a class', () => {
    class Shapes {
      static area(r: number): number {
        return 3 * r * r;
      }
      perimeter(r: number): number {
        return 6 * r;
      }
    }
    expect(revive<typeof Shapes.area>(captureFunction(Shapes.area).source)(2)).toBe(12);
    const perimeter = Shapes.prototype.perimeter;
    expect(revive<typeof perimeter>(captureFunction(perimeter).source)(2)).toBe(12);
  });
});

describe('captureClass', () => {
  it('round-trips a class with fields, static members and private state', () => {
    class Counter {
      static created = 0;
      #secret = 1;
      n = 0;
      constructor(start = 0) {
        this.n = start;
        Counter.created++;
      }
      add(k: number): number {
        return (this.n += k * this.#secret);
      }
      static describe(): string {
        return 'counter';
      }
    }
    const captured = captureClass(Counter);
    expect(captured.name).toBe('Counter');
    const Revived = revive<typeof Counter>(captured.source);
    const c = new Revived(10);
    expect(c.add(2)).toBe(12);
    expect(c.add(3)).toBe(15);
    expect(Revived.describe()).toBe('counter');
    expect(Revived.created).toBe(1);
  });

  it('round-trips an anonymous class expression', () => {
    const Anon = fromText<ShippableClass>('class { get twice() { return 2; } }');
    const Revived = revive<new () => { twice: number }>(captureClass(Anon).source);
    expect(new Revived().twice).toBe(2);
  });
});

describe('hash and cache', () => {
  it('is the sha256 of the source, and stable across calls', () => {
    const fn = (x: number): number => x + 1;
    const first = captureFunction(fn);
    expect(first.hash).toBe(createHash('sha256').update(first.source).digest('hex'));
    expect(captureFunction(fn)).toBe(first);
  });

  it('is the same for two functions with the same source, different otherwise', () => {
    const a = fromText<ShippableFunction>('(x) => x + 1');
    const b = fromText<ShippableFunction>('(x) => x + 1');
    const c = fromText<ShippableFunction>('(x) => x + 2');
    expect(captureFunction(a).hash).toBe(captureFunction(b).hash);
    expect(captureFunction(a).hash).not.toBe(captureFunction(c).hash);
  });

  it('repeated captures of one function cost a WeakMap lookup', () => {
    const fn = (x: number): number => x * 3;
    captureFunction(fn);
    const started = performance.now();
    for (let i = 0; i < 100_000; i++) captureFunction(fn);
    // 100k lookups take a few milliseconds; re-parsing each time would take seconds.
    expect(performance.now() - started).toBeLessThan(500);
  });
});
