// AbortSignal cancels a task: a running endless loop is stopped (its thread replaced) and the
// agent keeps working; a signal aborted before the call rejects at once.
import { describe, expect, it } from 'vitest';
import { CancelledError, Cluster } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';
import { logged, marker } from '../helpers/task-events.js';

describe.each(MODES)('$name', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 1, slots: 1 }, (c) => (cluster = c));

  /** Says it started (the test waits for that line), then spins. */
  const spinForever = (started: string): never => {
    console.log(started);
    while (true) {
      // only terminating the thread stops this
    }
  };

  describe('aborting', () => {
    it('a running endless loop rejects quickly with CancelledError, and the agent keeps working', async () => {
      const pid = await cluster.run(() => process.pid);
      const controller = new AbortController();
      const m = marker('spinning');
      const started = logged(cluster, m);
      const running = cluster.remote(spinForever, { signal: controller.signal })(m);
      running.catch(() => undefined);
      await started; // it runs, and spins

      const reason = new Error('user pressed stop');
      const abortedAt = Date.now();
      controller.abort(reason);
      const err = await running.catch((e: unknown) => e);
      expect(Date.now() - abortedAt).toBeLessThan(1_000);
      expect(err).toBeInstanceOf(CancelledError);
      expect((err as CancelledError).code).toBe('CANCELLED');
      expect((err as CancelledError).cause).toBe(reason);

      expect(await cluster.run(() => process.pid)).toBe(pid);
      expect((await cluster.agents())).toHaveLength(1);
    });

    it('before the call rejects with CancelledError without running it', async () => {
      const controller = new AbortController();
      controller.abort();
      const done = (await cluster.agents())[0]?.tasksDone ?? 0;
      const err = await cluster.remote((x: number) => x, { signal: controller.signal })(1).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CancelledError);
      expect((err as CancelledError).code).toBe('CANCELLED');
      expect((await cluster.agents())[0]?.tasksDone).toBe(done);
    });

    it('a task waiting behind a busy slot cancels only that task', async () => {
      const blocker = new AbortController();
      const waiting = new AbortController();
      const m = marker('blocking');
      const started = logged(cluster, m);
      const first = cluster.remote(spinForever, { signal: blocker.signal })(m);
      const second = cluster.remote((x: number) => x, { signal: waiting.signal })(2);
      first.catch(() => undefined);
      second.catch(() => undefined);
      await started; // the one slot is taken: the second waits
      waiting.abort();
      await expect(second).rejects.toBeInstanceOf(CancelledError);
      blocker.abort();
      await expect(first).rejects.toBeInstanceOf(CancelledError);
      expect(await cluster.run((x: number) => x + 1, 1)).toBe(2);
    });

    it('a map cancels every item still pending', async () => {
      const controller = new AbortController();
      const m = marker('mapping');
      const started = logged(cluster, m);
      const mapping = cluster.map(
        async ([ms, started]: [number, string]) => {
          console.log(started);
          await new Promise((r) => setTimeout(r, ms));
          return ms;
        },
        [[5_000, m], [5_000, m], [5_000, m]] as [number, string][],
        { signal: controller.signal, inline: true },
      );
      mapping.catch(() => undefined);
      await started;
      const abortedAt = Date.now();
      controller.abort();
      await expect(mapping).rejects.toBeInstanceOf(CancelledError);
      expect(Date.now() - abortedAt).toBeLessThan(2_000); // not after the 5 s the items sleep
      expect(await cluster.run(() => 'still here')).toBe('still here');
    });
  });
});
