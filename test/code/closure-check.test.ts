import { join } from 'node:path';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { capturedVariables } from '../../coordinator/code/closure-check.js';
import { FunctionNotShippableError, WORKER_GLOBALS, findCapturedVariables } from '../../coordinator/code/index.js';

describe('findCapturedVariables reports', () => {
  it.each([
    ['an outer const', '(x) => x * factor', ['factor']],
    ['an outer function', '(x) => helper(x) + 1', ['helper']],
    ['a variable used only in a nested arrow', '(xs) => xs.map((x) => x + offset)', ['offset']],
    ['a variable used in a nested function declaration', 'function () { function inner() { return limit; } return inner(); }', ['limit']],
    ['each name once, in order of first use', '() => b + a + b + a', ['b', 'a']],
    ['an assignment to an outer variable', '() => { total = 1; }', ['total']],
    ['the base class of a class', 'class Dog extends Animal {}', ['Animal']],
    ['a class field initialised from outside', 'class C { limit = MAX; }', ['MAX']],
    ['a method calling itself by name (methods do not bind their own name)', '({ fib(n) { return fib(n - 1); } })["fib"]', ['fib']],
    ['`arguments` in a top-level arrow (it is the enclosing function\'s)', '() => arguments[0]', ['arguments']],
    ['a default parameter read from outside', '(a = DEFAULT) => a', ['DEFAULT']],
    ['an import binding, as seen in source text', '(p) => readFileSync(p, "utf8")', ['readFileSync']],
  ])('%s', (_label, source, expected) => {
    expect(findCapturedVariables(source)).toEqual(expected);
  });

  it('an imported binding, under the test runner that rewrote it', () => {
    // vitest compiles `join(...)` to `__vite_ssr_import_N__.join(...)`; the user wrote `join`.
    const fn = (a: string): string => join(a, 'b') + String(fs.existsSync(a));
    expect(findCapturedVariables(fn.toString())).toEqual(['join', 'existsSync']);
  });

  it('an imported binding hoisted by vi.mock, by the name the user wrote', () => {
    expect(findCapturedVariables('(x) => (0, __vi_import_0__.readFile)(x) + __vi_import_1__["default"]')).toEqual(['readFile', 'default']);
  });

  it('import.meta, under the test runner that rewrote it', () => {
    const fn = (): string => import.meta.url;
    expect(findCapturedVariables(fn.toString())).toEqual(['import.meta']);
  });

  it('a name used both under typeof and directly', () => {
    expect(findCapturedVariables('() => typeof config === "object" ? config.x : 0')).toEqual(['config']);
  });

  it("the test runner's own globals, which agents do not have", () => {
    expect(findCapturedVariables('() => __vitest_worker__')).toEqual(['__vitest_worker__']);
  });
});

describe('findCapturedVariables does not report', () => {
  it.each([
    ['parameters and locals', '(a, b) => { const c = a + b; let d = c; return d; }'],
    ['a destructured parameter shadowing an outer name', '({ x, y: [z] }) => x + z'],
    ['a parameter default reading an earlier parameter', '(a, b = a * 2) => b'],
    ['`let` in a loop body', '(n) => { let s = 0; for (let i = 0; i < n; i++) { let sq = i * i; s += sq; } return s; }'],
    ['for-of and for-in bindings', '(o) => { for (const k in o) {} for (const v of [1]) {} return 0; }'],
    ['a catch parameter', '() => { try { return 1; } catch (err) { return err; } }'],
    ['a function calling itself by its own name', 'function fact(n) { return n <= 1 ? 1 : n * fact(n - 1); }'],
    ['a class referring to itself', 'class Node { static make() { return new Node(); } }'],
    ['hoisted inner functions and vars', '() => { return inner() + v; function inner() { return 1; } var v = 2; }'],
    ['`arguments` inside a function', 'function () { return arguments.length; }'],
    ['`this` and `new.target`', 'function () { return [this, new.target]; }'],
    ['labels and property names', '(o) => { outer: for (;;) { break outer; } return o.unknownProp + ({ alsoUnknown: 1 }).alsoUnknown; }'],
    ['ECMAScript globals', '() => [Math.max(1, 2), JSON.stringify({}), new Map(), Symbol.iterator, BigInt(1), undefined, NaN, Infinity, globalThis]'],
    ['Node globals', '() => [setTimeout, setImmediate, queueMicrotask, fetch, process.pid, Buffer.from(""), console.log, structuredClone, URL, AbortController, performance, TextEncoder]'],
    ['the globals the agent worker defines', `() => [${WORKER_GLOBALS.join(', ')}]`],
    ['`typeof` of an undeclared name (feature detection cannot throw)', '() => typeof window === "undefined" && typeof Deno === "undefined"'],
    ['a dynamic import()', 'async () => (await import("node:os")).cpus().length'],
  ])('%s', (_label, source) => {
    expect(findCapturedVariables(source)).toEqual([]);
  });
});

describe('findCapturedVariables errors and cache', () => {
  it('refuses module-only syntax with a typed error', () => {
    expect(() => findCapturedVariables('() => import.meta.url')).toThrow(FunctionNotShippableError);
    try {
      findCapturedVariables('() => import.meta.url');
    } catch (error) {
      expect((error as FunctionNotShippableError).code).toBe('FUNCTION_NOT_SHIPPABLE');
      expect(String(error)).toMatch(/import\.meta.*\n.*cluster\.module/s);
    }
  });

  it('caches by hash: the same result object comes back', () => {
    const first = capturedVariables('() => cachedName', 'hash-of-test-source');
    expect(capturedVariables('() => cachedName', 'hash-of-test-source')).toBe(first);
    expect(first).toEqual(['cachedName']);
  });

  it('returns a fresh array from the public function, so callers cannot corrupt the cache', () => {
    const a = findCapturedVariables('() => mutated');
    a.push('junk');
    expect(findCapturedVariables('() => mutated')).toEqual(['mutated']);
  });
});
