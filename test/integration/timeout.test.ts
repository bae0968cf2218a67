// timeoutMs stops a CPU-bound task for real (its thread is terminated) and the agent stays.
import { describe, expect, it } from 'vitest';
import { Cluster, ClustrixError, TimeoutError } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';

describe.each(MODES)('$name', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 1, slots: 1 }, (c) => (cluster = c));

  const spinForever = (): never => {
    while (true) {
      // a CPU-bound loop only terminating the thread can stop
    }
  };

  describe('timeoutMs', () => {
    it('rejects an endless loop with TimeoutError, and the same agent runs the next task', async () => {
      const before = await cluster.run(() => process.pid);
      const [agentBefore] = (await cluster.agents());

      const err = await cluster.remote(spinForever, { timeoutMs: 300 })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect(err).toBeInstanceOf(ClustrixError);
      expect((err as TimeoutError).code).toBe('TASK_TIMEOUT');
      expect((err as TimeoutError).timeoutMs).toBe(300);

      expect(await cluster.run(() => process.pid)).toBe(before);
      expect((await cluster.agents())).toHaveLength(1);
      expect((await cluster.agents())[0]?.id).toBe(agentBefore?.id);
      expect((await cluster.agents())[0]?.pid).toBe(before);
    });

    it('stops several endless loops in a row on the one slot', async () => {
      const spin = cluster.remote(spinForever, { timeoutMs: 200 });
      const errors = await Promise.all([spin(), spin(), spin()].map((p) => p.catch((e: unknown) => e)));
      for (const err of errors) expect(err).toBeInstanceOf(TimeoutError);
      expect(await cluster.run((a: number) => a * 2, 21)).toBe(42);
    });

    it('does not touch a task that finishes in time', async () => {
      const quick = cluster.remote((x: number) => x + 1, { timeoutMs: 5_000 });
      expect(await quick(1)).toBe(2);
    });

    it('counts from when the task starts, not while it waits in the queue', { timeout: 30_000 }, async () => {
      // Five 400 ms tasks on one slot: the last waits ~1.6 s, longer than its 1.2 s limit, and each
      // runs well within it.
      const busy = cluster.remote(
        (ms: number) => {
          const end = Date.now() + ms;
          while (Date.now() < end) {
            // busy
          }
          return ms;
        },
        { timeoutMs: 1_200 },
      );
      expect(await Promise.all([1, 2, 3, 4, 5].map(() => busy(400)))).toEqual([400, 400, 400, 400, 400]);
    });

    it('on map applies to each item', async () => {
      const err = await cluster
        .map(
          (x: number) => {
            if (x === 2) while (true) {
              // stuck
            }
            return x;
          },
          [0, 1, 2, 3],
          { timeoutMs: 300 },
        )
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect(await cluster.run(() => 'alive')).toBe('alive');
    });
  });
});
