// Inline tasks run on the agent's event loop and overlap: many of them on one agent with one
// worker slot still run at the same time.
import { describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';

describe.each(MODES)('$name', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 1, slots: 1 }, (c) => (cluster = c));

  interface Span {
    start: number;
    end: number;
    pid: number;
  }

  const nap = async (ms: number): Promise<Span> => {
    const start = Date.now();
    await new Promise((r) => setTimeout(r, ms));
    return { start, end: Date.now(), pid: process.pid };
  };

  describe('inline tasks', () => {
    it('10 sleeping tasks on one agent all run at the same time', async () => {
      const spans = await Promise.all(Array.from({ length: 10 }, () => cluster.remote(nap, { inline: true })(200)));
      expect(new Set(spans.map((s) => s.pid)).size).toBe(1);
      // Every task started before any task ended: all ten overlapped.
      const lastStart = Math.max(...spans.map((s) => s.start));
      const firstEnd = Math.min(...spans.map((s) => s.end));
      expect(lastStart).toBeLessThan(firstEnd);
    });

    it('through map as well', async () => {
      const spans = await cluster.map(nap, new Array<number>(10).fill(200), { inline: true });
      const lastStart = Math.max(...spans.map((s) => s.start));
      const firstEnd = Math.min(...spans.map((s) => s.end));
      expect(lastStart).toBeLessThan(firstEnd);
    });

    it('run on the agent main thread, in the agent process', async () => {
      const where = await cluster.remote(
        async () => {
          // eslint-disable-next-line @typescript-eslint/no-require-imports -- shipped source cannot import; agents provide require
          const { isMainThread } = require('node:worker_threads') as typeof import('node:worker_threads');
          return { isMainThread, pid: process.pid };
        },
        { inline: true },
      )();
      expect(where).toEqual({ isMainThread: true, pid: (await cluster.agents())[0]?.pid });
    });
  });
});
