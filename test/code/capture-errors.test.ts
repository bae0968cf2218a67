import { describe, expect, it } from 'vitest';
import { ClosureError, ClustrixError, ConfigError } from '../../coordinator/errors/errors.js';
import { FunctionNotShippableError, captureClass, captureFunction, type ShippableClass, type ShippableFunction } from '../../coordinator/code/index.js';

function thrown(fn: () => unknown): ClustrixError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ClustrixError) return error;
    throw error;
  }
  throw new Error('expected a ClustrixError, nothing was thrown');
}

const rate = 0.2;
function applyRate(x: number): number {
  return x * rate;
}

describe('ClosureError from captureFunction', () => {
  it('names every captured variable and says how to fix it', () => {
    const scale = (x: number): number => applyRate(x) * rate;
    const error = thrown(() => captureFunction(scale));
    expect(error).toBeInstanceOf(ClosureError);
    expect(error.code).toBe('CLOSURE_CAPTURE');
    expect((error as ClosureError).variables).toEqual(['applyRate', 'rate']);
    expect(error.message).toBe(
      "function scale reads 'applyRate', 'rate' from its enclosing scope, which does not travel with its source\n" +
        "  hint: if 'applyRate', 'rate' are data, pass them as arguments; a captured function or class cannot travel as an argument: define it inside the function, or put both in a module and use cluster.module(url)",
    );
  });

  it('does not advise passing a captured function as an argument (issue 12: functions cannot travel as values)', () => {
    const error = thrown(() => captureFunction((x: number) => applyRate(x)));
    expect(error.hint).not.toMatch(/^pass/);
    expect(error.hint).toMatch(/a captured function or class cannot travel as an argument: define it inside the function, or put both in a module/);
  });

  it('calls an anonymous function that', () => {
    const error = thrown(() => captureFunction([(x: number) => x + rate][0] as ShippableFunction));
    expect(error.message).toMatch(/^an anonymous function reads 'rate'/);
  });

  it('names a class', () => {
    class Taxed {
      total(x: number): number {
        return x * (1 + rate);
      }
    }
    expect(thrown(() => captureClass(Taxed)).message).toMatch(/^class Taxed reads 'rate'/);
  });

  it('is not raised for globals used by a real function', () => {
    const usesGlobals = async (xs: number[]): Promise<string> => {
      await new Promise((r) => setTimeout(r, 0));
      const ok = typeof fetch === 'function' && process.pid > 0;
      return JSON.stringify({ max: Math.max(...xs), ok });
    };
    expect(() => captureFunction(usesGlobals)).not.toThrow();
  });

  it('is raised again on every call, not cached as a success', () => {
    const fn = (): number => rate;
    expect(() => captureFunction(fn)).toThrow(ClosureError);
    expect(() => captureFunction(fn)).toThrow(ClosureError);
  });
});

describe('FunctionNotShippableError', () => {
  it.each([
    ['native functions', Math.max, /function max cannot be shipped by source: it is native code/],
    ['bound functions', applyRate.bind(null), /function bound applyRate cannot be shipped by source: it is a bound function/],
    ['native constructors', Map as unknown as ShippableFunction, /function Map cannot be shipped by source: it is native code/],
  ])('refuses %s, suggesting cluster.module', (_label, fn, message) => {
    const error = thrown(() => captureFunction(fn as ShippableFunction));
    expect(error).toBeInstanceOf(FunctionNotShippableError);
    expect(error.code).toBe('FUNCTION_NOT_SHIPPABLE');
    expect(error.message).toMatch(message);
    expect(error.message).toMatch(/hint: .*cluster\.module\(url\)/);
  });

  it('refuses getters and setters', () => {
    const descriptor = Object.getOwnPropertyDescriptor(
      {
        get size() {
          return 1;
        },
        set size(_v: number) {},
      },
      'size',
    );
    expect(thrown(() => captureFunction(descriptor?.get as ShippableFunction)).message).toMatch(/function get size cannot be shipped by source: it is a getter/);
    expect(thrown(() => captureFunction(descriptor?.set as ShippableFunction)).message).toMatch(/function set size cannot be shipped by source: it is a setter/);
  });

  it('refuses a class passed as a function, pointing to actors', () => {
    const Cls = class Worker {} as unknown as ShippableFunction;
    const error = thrown(() => captureFunction(Cls));
    expect(error.message).toMatch(/function Worker cannot be shipped by source: it is a class\n {2}hint: run a class as an actor with cluster\.actor/);
  });

  it('refuses a plain function passed as a class', () => {
    function Legacy(this: { x: number }) {
      this.x = 1;
    }
    const error = thrown(() => captureClass(Legacy as unknown as ShippableClass));
    expect(error.message).toMatch(/^class Legacy cannot be shipped by source: it is not written with class syntax/);
  });

  it('refuses functions using module-only syntax, pointing to cluster.module', () => {
    // Node prints a module function's source as written; vitest would rewrite import.meta first.
    const error = thrown(() => withPrintedSource('() => import.meta.url', (fn) => captureFunction(fn)));
    expect(error).toBeInstanceOf(FunctionNotShippableError);
    expect(error.message).toMatch(/Cannot use 'import\.meta' outside a module.*\n {2}hint: .*cluster\.module\(url\)/s);
  });

  it('reads the source with Function.prototype.toString, not an own toString', () => {
    const fn = (x: number): number => x;
    Object.defineProperty(fn, 'toString', { value: () => 'not source' });
    const source = captureFunction(fn).source;
    expect(source).toContain(Function.prototype.toString.call(fn)); // after padding, before its sourceURL line
    expect(source).not.toContain('not source');
  });

  it('rejects non-functions with a ConfigError', () => {
    expect(() => captureFunction(42 as unknown as ShippableFunction)).toThrow(new ConfigError('expected a function, got 42'));
  });
});

/** Runs `body` with a fresh function whose Function.prototype.toString is `text`. */
function withPrintedSource<T>(text: string, body: (fn: ShippableFunction) => T): T {
  const fn = (): undefined => undefined;
  const original = Function.prototype.toString;
  Function.prototype.toString = function (this: ShippableFunction): string {
    return this === fn ? text : original.call(this);
  };
  try {
    return body(fn);
  } finally {
    Function.prototype.toString = original;
  }
}
