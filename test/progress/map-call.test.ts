// One map/stream call: its label (shown on the bar) and its AbortSignal, which the call watches
// once, not once per task.
import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { CancelledError, Cluster } from 'clustrix';
import { streamCall } from '../../coordinator/api/fan-out.js';
import type { TaskSubmitter } from '../../coordinator/api/task-call.js';
import { MODES, useCluster } from '../helpers/modes.js';

describe.each(MODES)('$name', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 1, slots: 2 }, (c) => (cluster = c));

  describe('map with an AbortSignal', () => {
    it('adds one abort listener for 10,000 items, warns nothing, and cancels on abort', async () => {
      const warnings: Error[] = [];
      const onWarning = (w: Error): void => void warnings.push(w);
      process.on('warning', onWarning);
      try {
        const controller = new AbortController();
        let most = 0;
        const items = Array.from({ length: 10_000 }, (_, i) => i);
        const err = await cluster
          .map((x: number) => x, items, {
            signal: controller.signal,
            onProgress: (p) => {
              most = Math.max(most, getEventListeners(controller.signal, 'abort').length);
              if (p.done === 2_000) controller.abort(new Error('stop'));
            },
          })
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(CancelledError);
        expect((err as CancelledError).cause).toEqual(new Error('stop'));
        expect(most).toBe(1);
        expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
        // A warning is emitted on the next tick.
        await new Promise((r) => setImmediate(r));
        expect(warnings.map((w) => w.name)).not.toContain('MaxListenersExceededWarning');
      } finally {
        process.off('warning', onWarning);
      }
    });

    it('leaves no listener behind when the map succeeds', async () => {
      const controller = new AbortController();
      expect(await cluster.map((x: number) => x + 1, [1, 2, 3], { signal: controller.signal })).toEqual([2, 3, 4]);
      expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    });

    it('rejects at once with a signal aborted before the call', async () => {
      const controller = new AbortController();
      controller.abort();
      await expect(cluster.map((x: number) => x, [1, 2], { signal: controller.signal })).rejects.toBeInstanceOf(CancelledError);
    });

    it('hands the submitter (embedded or a service connection) no per-task signal', async () => {
      const seen: (AbortSignal | null)[] = [];
      const submitter: TaskSubmitter = {
        start: (_code, _name, args, options, _extra, sink, tag) => {
          seen.push(options.signal);
          sink.taskDone(tag, args[0]);
          return { id: `t${seen.length}`, cancel: () => undefined };
        },
      };
      const controller = new AbortController();
      const out: unknown[] = [];
      for await (const r of streamCall(submitter, (x: number) => x, [1, 2, 3], { signal: controller.signal, progress: false }, { retries: 0, totalSlots: 1 })) out.push(r.value);
      expect(out.sort()).toEqual([1, 2, 3]);
      expect(seen).toEqual([null, null, null]);
    });
  });

  describe('map label', () => {
    it('is validated', () => {
      for (const label of [3, '', 'a\nb', 'x'.repeat(201)]) {
        expect(() => cluster.stream((x: number) => x, [1], { label: label as string })).toThrow(/^options\.label: expected a non-empty string of at most 200 characters without control characters, got/);
      }
    });
  });
});
