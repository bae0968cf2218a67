// cluster.module: a TypeScript module bundled with its imports, whose exports run as tasks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, ConfigError, ClustrixError, type TaskModule } from 'clustrix';
import { MODES, type ClusterHandle } from '../helpers/modes.js';

describe.each(MODES)('$name', (mode) => {
  type Tasks = typeof import('../fixtures/core/tasks.js');

  let cluster: Cluster;
  let handle: ClusterHandle | undefined;
  let tasks: TaskModule<Tasks>;
  beforeAll(async () => {
    handle = await mode.start({ agents: 2, slots: 1 });
    cluster = handle.cluster;
    tasks = await cluster.module<Tasks>(new URL('../fixtures/core/tasks.ts', import.meta.url));
  });
  afterAll(async () => {
    await handle?.close();
  });

  describe('a module', () => {
    it('lists its exports', () => {
      expect([...tasks.exports].sort()).toEqual(['fib', 'notAFunction', 'pidAndValue', 'shifted']);
    });

    it('runs an export that calls into a second file', async () => {
      expect(await cluster.run(tasks.fn('fib'), 20)).toBe(6765);
    });

    it('runs an export that reads a constant from a second file', async () => {
      expect(await cluster.run(tasks.fn('shifted'), 5)).toBe(1005);
    });

    it('maps an export over items, with and without chunks', async () => {
      const items = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
      const expected = [1, 1, 2, 3, 5, 8, 13, 21, 34, 55];
      expect(await cluster.map(tasks.fn('fib'), items)).toEqual(expected);
      expect(await cluster.map(tasks.fn('fib'), items, { chunkSize: 3 })).toEqual(expected);
    });

    it('runs an async export on every agent', async () => {
      const results = await cluster.broadcast(tasks.fn('pidAndValue'), 7);
      expect(results.map((r) => r.x)).toEqual([7, 7]);
      expect(results.map((r) => r.pid)).toEqual((await cluster.agents()).map((a) => a.pid));
    });

    it('runs an export inline', async () => {
      expect(await cluster.remote(tasks.fn('shifted'), { inline: true })(1)).toBe(1001);
    });

    it('loaded twice gives the same hash', async () => {
      const again = await cluster.module<Tasks>(new URL('../fixtures/core/tasks.ts', import.meta.url));
      expect(again.hash).toBe(tasks.hash);
    });
  });

  describe('an unknown export name', () => {
    it('throws ConfigError, naming the export and listing the real ones', () => {
      let err: unknown;
      try {
        tasks.fn('fibonacci' as never);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect(err).toBeInstanceOf(ClustrixError);
      expect((err as ConfigError).code).toBe('CONFIG_INVALID');
      expect((err as Error).message).toContain("'fibonacci'");
      expect((err as Error).message).toContain('fib');
    });
  });
});
