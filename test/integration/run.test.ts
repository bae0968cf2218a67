// cluster.run and cluster.remote: one call, one result, on a real agent process.
import { describe, expect, it } from 'vitest';
import { Cluster, ConfigError } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';

describe.each(MODES)('$name', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 2, slots: 1 }, (c) => (cluster = c));

  describe('run', () => {
    it('returns the function result', async () => {
      expect(await cluster.run((a: number, b: number) => a + b, 2, 3)).toBe(5);
    });

    it('awaits an async function', async () => {
      expect(await cluster.run(async (s: string) => `${s}!`, 'hi')).toBe('hi!');
    });

    it('runs in another process', async () => {
      const pid = await cluster.run(() => process.pid);
      expect(pid).not.toBe(process.pid);
      expect((await cluster.agents()).map((a) => a.pid)).toContain(pid);
    });

    it('passes no arguments, and returns undefined and null', async () => {
      expect(await cluster.run(() => undefined)).toBeUndefined();
      expect(await cluster.run(() => null)).toBeNull();
    });

    it('runs a named function declaration that calls itself', async () => {
      function fib(n: number): number {
        return n < 2 ? n : fib(n - 1) + fib(n - 2);
      }
      expect(await cluster.run(fib, 20)).toBe(6765);
    });

    it('runs many calls at once', async () => {
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => cluster.run((x: number) => x * 3, i)));
      expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i * 3));
    });
  });

  describe('remote', () => {
    it('makes a reusable function', async () => {
      const square = cluster.remote((x: number) => x * x);
      expect(await square(4)).toBe(16);
      expect(await square(5)).toBe(25);
    });

    it('refuses unknown task options with a ConfigError and the near miss', () => {
      expect(() => cluster.remote((x: number) => x, { timeout: 5 } as never)).toThrow(
        new ConfigError("options.timeout: unknown key (allowed: timeoutMs, retries, retryExceptions, signal, inline, priority, weight, resources, pool); did you mean 'timeoutMs'?"),
      );
    });
  });
});
