// AbortSignal cancels a task: a running endless loop is stopped (its thread replaced) and the
// agent keeps working; a signal aborted before the call rejects at once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, Cluster } from 'clustrix';
import { waitUntil } from '../helpers/processes.js';
import { MODES, type ClusterHandle } from '../helpers/modes.js';

describe.each(MODES)('$name', (mode) => {
  let cluster: Cluster;
  let handle: ClusterHandle | undefined;
  beforeAll(async () => {
    handle = await mode.start({ agents: 1, slots: 1 });
    cluster = handle.cluster;
  });
  afterAll(async () => {
    await handle?.close();
  });

  const spinForever = (): never => {
    while (true) {
      // only terminating the thread stops this
    }
  };

  describe('aborting', () => {
    it('a running endless loop rejects quickly with CancelledError, and the agent keeps working', async () => {
      const pid = await cluster.run(() => process.pid);
      const controller = new AbortController();
      const running = cluster.remote(spinForever, { signal: controller.signal })();
      running.catch(() => undefined);
      await waitUntil(async () => ((await cluster.agents())[0]?.busy ?? 0) > 0, { what: 'the task to reach the agent' });
      await new Promise((r) => setTimeout(r, 100)); // let it start spinning

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
      const first = cluster.remote(spinForever, { signal: blocker.signal })();
      const second = cluster.remote((x: number) => x, { signal: waiting.signal })(2);
      first.catch(() => undefined);
      second.catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
      waiting.abort();
      await expect(second).rejects.toBeInstanceOf(CancelledError);
      blocker.abort();
      await expect(first).rejects.toBeInstanceOf(CancelledError);
      expect(await cluster.run((x: number) => x + 1, 1)).toBe(2);
    });

    it('a map cancels every item still pending', async () => {
      const controller = new AbortController();
      const mapping = cluster.map(
        async (ms: number) => {
          await new Promise((r) => setTimeout(r, ms));
          return ms;
        },
        [5_000, 5_000, 5_000],
        { signal: controller.signal, inline: true },
      );
      mapping.catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
      controller.abort();
      await expect(mapping).rejects.toBeInstanceOf(CancelledError);
      expect(await cluster.run(() => 'still here')).toBe('still here');
    });
  });
});
