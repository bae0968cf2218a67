// The fan-out of map/stream (coordinator/api/fan-out.ts) against a fake submitter whose tasks the
// test settles by hand: never more than the window in flight, inputs read only as results come
// back, and an abort (or a failure, or leaving the loop) cancels every task still pending.
import { describe, expect, it } from 'vitest';
import { fanOut, fanOutBatches, type FanOutOptions, type StreamResult } from '../../coordinator/api/fan-out.js';
import type { ResultSink, SubmitExtra, TaskControl, TaskSubmitter } from '../../coordinator/api/task-call.js';
import type { ResolvedTaskOptions } from '../../coordinator/api/task-options.js';
import type { ShippedCode } from '../../coordinator/engine/task.js';
import { CancelledError, type ClustrixError } from '../../coordinator/errors/errors.js';
import { waitUntil } from '../helpers/processes.js';

/** A task of the fake submitter: the test resolves or rejects it; cancel() records the error. */
interface FakeTask {
  id: string;
  args: unknown[];
  resolve(value: unknown): void;
  reject(error: unknown): void;
  cancelledWith: ClustrixError | null;
  settled: boolean;
}

/** Test double of the cluster's TaskCaller: records every submission, runs nothing. */
class FakeSubmitter implements TaskSubmitter {
  readonly tasks: FakeTask[] = [];
  maxInFlight = 0;

  get inFlight(): FakeTask[] {
    return this.tasks.filter((t) => !t.settled);
  }

  start<T>(_code: ShippedCode, _exportName: string | null, args: unknown[], _options: ResolvedTaskOptions, _extra: SubmitExtra, sink: ResultSink<T>, tag: T): TaskControl {
    const task: FakeTask = {
      id: `t${this.tasks.length}`,
      args,
      cancelledWith: null,
      settled: false,
      resolve: (v) => {
        if (task.settled) return;
        task.settled = true;
        sink.taskDone(tag, v);
      },
      reject: (e) => {
        if (task.settled) return;
        task.settled = true;
        sink.taskFailed(tag, e);
      },
    };
    this.tasks.push(task);
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight.length);
    return {
      id: task.id,
      cancel: (error) => {
        if (task.settled) return;
        task.cancelledWith = error;
        task.reject(error);
      },
    };
  }
}

const code: ShippedCode = { hash: 'h', kind: 'function', source: '(x) => x', name: 'identity' };
const taskOptions = (signal: AbortSignal | null = null): ResolvedTaskOptions => ({ timeoutMs: null, retries: 0, retryExceptions: 0, signal, inline: false, priority: 0, weight: 1, resources: null, pool: null });
const options = (window: number, signal: AbortSignal | null = null, chunkSize = 1): FanOutOptions => ({ window, chunkSize, task: taskOptions(signal) });

/** Drains a fan-out into an array (rejects with its error). */
async function collect<R>(gen: AsyncGenerator<StreamResult<R>>): Promise<StreamResult<R>[]> {
  const out: StreamResult<R>[] = [];
  for await (const r of gen) out.push(r);
  return out;
}

describe('fan-out window', () => {
  it('never has more than the window in flight, and submits the next item as each result comes back', async () => {
    const s = new FakeSubmitter();
    const items = Array.from({ length: 20 }, (_, i) => i);
    const done = collect(fanOut<number>(s, code, null, items, options(3)));
    await waitUntil(() => s.tasks.length === 3, { what: 'the first window' });
    // Settle one at a time, in a scrambled order; the window refills one for one.
    while (s.inFlight.length > 0) {
      expect(s.inFlight.length).toBeLessThanOrEqual(3);
      const t = s.inFlight[s.inFlight.length - 1]!;
      t.resolve((t.args[0] as number) * 10);
      const submitted = s.tasks.length;
      if (submitted < 20) await waitUntil(() => s.tasks.length === submitted + 1, { what: `task ${submitted} to be submitted` });
    }
    const results = await done;
    expect(s.maxInFlight).toBe(3);
    expect(s.tasks).toHaveLength(20);
    expect(results.map((r) => r.index).sort((a, b) => a - b)).toEqual(items);
    for (const r of results) expect(r.value).toBe(r.index * 10);
  });

  it('reads a lazy input only as far as the window', async () => {
    const s = new FakeSubmitter();
    let read = 0;
    function* items(): Generator<number> {
      for (let i = 0; i < 1_000; i++) {
        read++;
        yield i;
      }
    }
    const done = collect(fanOut<number>(s, code, null, items(), options(4)));
    await waitUntil(() => s.tasks.length === 4, { what: 'the first window' });
    expect(read).toBe(4);
    s.tasks[0]!.resolve(0);
    await waitUntil(() => s.tasks.length === 5, { what: 'the fifth task' });
    expect(read).toBe(5);
    // Failing one ends the call: the rest are cancelled, and no more input is read.
    s.tasks[1]!.reject(new Error('boom'));
    await expect(done).rejects.toThrow('boom');
    expect(read).toBe(5);
  });

  it('counts a chunk as one task of the window', async () => {
    const s = new FakeSubmitter();
    const done = collect(fanOut<number>(s, code, null, Array.from({ length: 10 }, (_, i) => i), options(2, null, 3)));
    await waitUntil(() => s.tasks.length === 2, { what: 'two chunks' });
    expect(s.tasks.map((t) => t.args)).toEqual([[[0], [1], [2]], [[3], [4], [5]]]);
    for (;;) {
      const t = s.inFlight[0];
      if (!t) break;
      t.resolve((t.args as number[][]).map(([x]) => x! + 1));
      await waitUntil(() => s.inFlight.length > 0 || s.tasks.length === 4, { what: 'the next chunk' });
    }
    const results = await done;
    expect(s.tasks.map((t) => t.args.length)).toEqual([3, 3, 3, 1]);
    expect(results.sort((a, b) => a.index - b.index).map((r) => r.value)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });
});

describe('fan-out abort', () => {
  it('cancels every task in flight with CancelledError, submits no more, and rejects with it', async () => {
    const s = new FakeSubmitter();
    const controller = new AbortController();
    const done = collect(fanOut<number>(s, code, null, Array.from({ length: 100 }, (_, i) => i), options(5, controller.signal)));
    done.catch(() => undefined);
    await waitUntil(() => s.tasks.length === 5, { what: 'the first window' });
    s.tasks[0]!.resolve(0);
    await waitUntil(() => s.tasks.length === 6, { what: 'the sixth task' });
    const reason = new Error('user pressed stop');
    controller.abort(reason);
    const err = await done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect((err as CancelledError).cause).toBe(reason);
    expect(s.tasks).toHaveLength(6);
    const cancelled = s.tasks.slice(1);
    for (const t of cancelled) expect(t.cancelledWith, t.id).toBeInstanceOf(CancelledError);
    expect(s.tasks[0]!.cancelledWith).toBeNull();
  });

  it('with a signal aborted before the call, submits nothing', async () => {
    const s = new FakeSubmitter();
    const controller = new AbortController();
    controller.abort();
    await expect(collect(fanOut<number>(s, code, null, [1, 2, 3], options(5, controller.signal)))).rejects.toBeInstanceOf(CancelledError);
    expect(s.tasks).toHaveLength(0);
  });

  it('leaving the loop early cancels what is still in flight', async () => {
    const s = new FakeSubmitter();
    const gen = fanOut<number>(s, code, null, [1, 2, 3, 4], options(4));
    const first = gen.next();
    await waitUntil(() => s.tasks.length === 4, { what: 'four tasks' });
    s.tasks[2]!.resolve(30);
    expect((await first).value).toEqual({ index: 2, value: 30 });
    await gen.return(undefined);
    expect(s.tasks.filter((t) => t.cancelledWith instanceof CancelledError).map((t) => t.id)).toEqual(['t0', 't1', 't3']);
  });
});

describe('fan-out batches (the form map() takes)', () => {
  it('yields the results that came back together as one batch, and a failure after the results before it', async () => {
    const s = new FakeSubmitter();
    const gen = fanOutBatches<number>(s, code, null, [0, 1, 2, 3, 4, 5], options(6));
    const first = gen.next();
    await waitUntil(() => s.tasks.length === 6, { what: 'six tasks' });
    s.tasks[3]!.resolve(30);
    s.tasks[1]!.resolve(10);
    expect((await first).value).toEqual([{ index: 3, value: 30 }, { index: 1, value: 10 }]);
    const second = gen.next();
    s.tasks[0]!.resolve(0);
    s.tasks[5]!.reject(new Error('boom'));
    s.tasks[4]!.resolve(40);
    // The result before the failure comes first; then the failure, and the rest is cancelled.
    expect((await second).value).toEqual([{ index: 0, value: 0 }]);
    await expect(gen.next()).rejects.toThrow('boom');
    expect(s.tasks[2]!.cancelledWith).toBeInstanceOf(CancelledError);
  });
});
