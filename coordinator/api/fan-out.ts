import { nanoid } from 'nanoid';
import { z } from 'zod';
import { CancelledError, ConfigError, type ClustrixError } from '../errors/errors.js';
import { parseOptions } from '../config/parse-options.js';
import { custom, fn, flag, mapping, positiveInt, type Differences, type None } from '../config/schema-kit.js';
import { MAX_LABEL, progressFor, type Progress, type ProgressOptions, type ProgressSink } from './progress.js';
import type { ResultSink, TaskControl, TaskSubmitter } from './task-call.js';
import { taskDefaults, taskOptionsShape, type ResolvedTaskOptions, type TaskOptions } from './task-options.js';
import { codeOf } from './runnable.js';
import type { ShippedCode } from '../engine/task.js';
import { Slots } from '../util/slots.js';

/** Options of `map`, `stream` and `zipMap`, on top of the per-task options. */
export interface MapOptions<E extends unknown[] = unknown[]> extends TaskOptions, ProgressOptions {
  /** Fixed arguments passed after the item to every call: `fn(item, ...args)` (refs resolve on the agent). @default [] */
  args?: E;
  /** Items per task: fewer, larger messages for tiny functions. Results are the same. @default 1 */
  chunkSize?: number;
  /** Most tasks of this call queued or running at once. @default enough to keep every slot busy */
  concurrency?: number;
  /**
   * `map` and `stream`, connected only: run in the service on its own, outliving this program; the
   * call resolves with `{ id, kind }` at once, and any client gets the results by
   * `cluster.collect(id)` or `cluster.collectStream(id)`. @default false
   */
  detach?: boolean;
}

export const mapOptionsSchema = z.strictObject(
  {
    ...taskOptionsShape,
    args: custom<unknown[]>('a list of arguments passed after each item', (v) => Array.isArray(v)).optional(),
    chunkSize: positiveInt().optional(),
    concurrency: positiveInt().optional(),
    detach: flag().optional(),
    progress: flag().optional(),
    onProgress: fn<(progress: Progress) => void>('a function (progress) => void').optional(),
    label: custom<string>(
      `a non-empty string of at most ${MAX_LABEL} characters without control characters`,
      // eslint-disable-next-line no-control-regex -- a newline or escape in a label would break the bar's line
      (v) => typeof v === 'string' && v.length > 0 && v.length <= MAX_LABEL && !/[\x00-\x1f\x7f]/.test(v),
    ).optional(),
  },
  mapping('map options (args, chunkSize, concurrency, detach, progress, onProgress, label, and the task options)'),
);
type _MapOptionsMirrored = None<Differences<MapOptions, z.input<typeof mapOptionsSchema>>>;

export const itemsSchema = custom<Iterable<unknown> | AsyncIterable<unknown>>(
  'an iterable or async iterable (an array, a Set, a generator, ...)',
  (v) => v !== null && typeof v === 'object' && (Symbol.iterator in v || Symbol.asyncIterator in v),
);

/** What `streamCall` and `mapCall` are given besides the call itself. */
export interface FanOutDefaults {
  retries: number;
  totalSlots: number;
  base?: TaskOptions;
  zip?: boolean;
}

/**
 * `stream(fn, items, options)` of a cluster, embedded or connected: checks the options and the
 * items (a ConfigError naming `options.<key>` or `items`), captures the code, and fans out
 * through `submitter`.
 */
export function streamCall<R>(submitter: TaskSubmitter, fn: unknown, items: unknown, options: MapOptions | undefined, defaults: FanOutDefaults): AsyncGenerator<StreamResult<R>> {
  const call = fanOutCall(fn, items, options, defaults);
  return fanOut<R>(submitter, call.code, call.exportName, call.input, call.options);
}

/**
 * `map(fn, items, options)` (and zipMap) of a cluster: `streamCall`'s results in input order,
 * taken a batch at a time (the results that came back together), not through an async iteration
 * step per result.
 */
export async function mapCall<R>(submitter: TaskSubmitter, fn: unknown, items: unknown, options: MapOptions | undefined, defaults: FanOutDefaults): Promise<R[]> {
  const call = fanOutCall(fn, items, options, defaults);
  const out: R[] = [];
  for await (const batch of fanOutBatches<R>(submitter, call.code, call.exportName, call.input, call.options)) {
    for (let i = 0; i < batch.length; i++) out[batch[i]!.index] = batch[i]!.value;
  }
  return out;
}

/** The checked options, items and code of a map/stream call. */
function fanOutCall(fn: unknown, items: unknown, options: MapOptions | undefined, defaults: FanOutDefaults): { code: ShippedCode; exportName: string | null; input: Iterable<unknown> | AsyncIterable<unknown>; options: FanOutOptions } {
  const o = parseOptions(mapOptionsSchema, options ?? {});
  // Cluster.map/stream hand `detach: true` to detach.ts before this; zipMap has no detached form.
  if (o.detach) throw new ConfigError('options.detach: zipMap cannot be detached', { hint: 'detach a map of a function taking one tuple over the zipped items: map(fn, tuples, { detach: true })' });
  const input = defaults.zip ? zipped(parseOptions(iterablesSchema, items, ['iterables'])) : parseOptions(itemsSchema, items, ['items']);
  const { code, exportName } = codeOf(fn);
  const label = o.label ?? exportName ?? (typeof fn === 'function' && fn.name ? fn.name : 'map');
  const progress = progressFor(label, defaults.zip ? (items as unknown[])[0] : input, o);
  const chunkSize = o.chunkSize ?? 1;
  const window = o.concurrency ?? Math.max(1024, 64 * defaults.totalSlots);
  // A remote() function's options apply under the call's own.
  const task = taskDefaults({ ...defaults.base, ...withoutUndefined(o) }, defaults);
  return { code, exportName, input, options: { chunkSize, window, task, progress, label, extraArgs: o.args ?? [], spread: defaults.zip ?? false } };
}

/** The options given, without the keys set to undefined (so they do not hide a remote() function's). */
export function withoutUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

const iterablesSchema = custom<(Iterable<unknown> | AsyncIterable<unknown>)[]>(
  'a non-empty list of iterables or async iterables, one per argument ([xs, ys])',
  (v) => Array.isArray(v) && v.length > 0 && v.every((x: unknown) => x !== null && typeof x === 'object' && (Symbol.iterator in x || Symbol.asyncIterator in x)),
);

/** The iterables in step, as argument tuples; one that ends before the others is an error, not a silent cut. */
async function* zipped(iterables: (Iterable<unknown> | AsyncIterable<unknown>)[]): AsyncGenerator<unknown[]> {
  const its = iterables.map((items) => (Symbol.asyncIterator in items ? (items as AsyncIterable<unknown>)[Symbol.asyncIterator]() : (items as Iterable<unknown>)[Symbol.iterator]()));
  let finished = false;
  try {
    for (let n = 0; ; n++) {
      const steps = await Promise.all(its.map((it) => it.next()));
      const ended = steps.map((step) => step.done === true);
      if (ended.every(Boolean)) {
        finished = true;
        return;
      }
      if (ended.some(Boolean)) {
        finished = true;
        const short = ended.indexOf(true);
        throw new ConfigError(`zipMap: iterables[${short}] ended after ${n} items while iterables[${ended.indexOf(false)}] had more`, {
          hint: 'pass iterables of the same length (zipMap does not cut the longer ones silently)',
        });
      }
      yield steps.map((step) => step.value as unknown);
    }
  } finally {
    if (!finished) await Promise.all(its.map((it) => it.return?.()));
  }
}

export interface FanOutOptions {
  /** Items per task; each task runs the function over its chunk. */
  chunkSize: number;
  /** Most tasks of this call queued or running at once. */
  window: number;
  task: ResolvedTaskOptions;
  /** Told of each finished task; null: nobody watches. */
  progress?: ProgressSink | null;
  /** Names the call in errors. @default 'map' */
  label?: string;
  /** Arguments passed after the item(s) to every call. @default [] */
  extraArgs?: unknown[];
  /** Each item is the list of arguments (zipMap), not one argument. @default false */
  spread?: boolean;
}

export interface StreamResult<R> {
  /** Position of the item in the input. */
  index: number;
  value: R;
}

/** A task of the call: its items, its control, and its outcome once it came. */
interface Pending {
  start: number;
  count: number;
  task: TaskControl;
  /** Its place in the call's pending set. */
  slot: number;
  failed: boolean;
  value: unknown;
}

const NOT_STARTED: TaskControl = { id: '', cancel: () => undefined };

/** {@link fanOutBatches}, one result at a time: the form of `stream`. */
export async function* fanOut<R>(
  submitter: TaskSubmitter,
  code: ShippedCode,
  exportName: string | null,
  items: Iterable<unknown> | AsyncIterable<unknown>,
  options: FanOutOptions,
): AsyncGenerator<StreamResult<R>> {
  for await (const batch of fanOutBatches<R>(submitter, code, exportName, items, options)) for (const result of batch) yield result;
}

/**
 * Runs a function over items with bounded memory: at most `window` tasks exist at once, more items
 * are read from the (possibly lazy) input only as results come back. Yields in completion order,
 * the results that came back together in one batch (never empty). The first failure cancels
 * everything still pending and is thrown, after the results before it; so is leaving the loop
 * early. The call's AbortSignal is watched here, by one listener for the whole call: the tasks are
 * submitted without it (a listener per task is 1,024 of them on one signal, and Node warns at 11).
 */
export async function* fanOutBatches<R>(
  submitter: TaskSubmitter,
  code: ShippedCode,
  exportName: string | null,
  items: Iterable<unknown> | AsyncIterable<unknown>,
  options: FanOutOptions,
): AsyncGenerator<StreamResult<R>[]> {
  const isAsync = Symbol.asyncIterator in items;
  const iterator = isAsync ? (items as AsyncIterable<unknown>)[Symbol.asyncIterator]() : (items as Iterable<unknown>)[Symbol.iterator]();
  // Each entry knows its slot (see slots.ts for why not a Set).
  const pending = new Slots<Pending>();
  const completed: Pending[] = [];
  let wake: (() => void) | null = null;
  let next = 0;
  let exhausted = false;
  /** Set once the call is over (aborted, failed, or left): later settlements are not progress. */
  let stopping = false;
  let aborted: ClustrixError | null = null;
  const signal = options.task.signal;
  const task: ResolvedTaskOptions = { ...options.task, signal: null };
  const cancelPending = (error: ClustrixError): void => {
    for (const entry of pending.values()) entry.task.cancel(error);
  };
  const onAbort = (): void => {
    stopping = true;
    aborted = new CancelledError(`the map/stream call (${options.label ?? 'map'}) was aborted`, { cause: signal?.reason });
    cancelPending(aborted);
    wake?.();
  };

  const group = `m${nanoid(10)}`;
  // History and the dashboard name the call by the same id the scheduler shares it by.
  const call = { id: group, label: options.label ?? 'map' };
  const extra = options.extraArgs ?? [];
  const argsOf = options.spread ? (item: unknown): unknown[] => [...(item as unknown[]), ...extra] : extra.length === 0 ? (item: unknown): unknown[] => [item] : (item: unknown): unknown[] => [item, ...extra];
  const one = { chunk: false, group, call };
  const launch = (batch: unknown[]): void => {
    const chunk = options.chunkSize > 1;
    if (!chunk) {
      launchOne(batch[0]);
      return;
    }
    submitted(batch.map(argsOf), batch.length, { chunk, group, call });
  };
  const launchOne = (item: unknown): void => submitted(argsOf(item), 1, one);
  // The entry is the task's tag: its outcome may come at once (a refused task), before it is pending.
  const submitted = (args: unknown[], count: number, extraOf: typeof one): void => {
    const entry: Pending = { start: next, count, task: NOT_STARTED, slot: -1, failed: false, value: undefined };
    next += count;
    entry.task = submitter.start(code, exportName, args, task, extraOf, sink, entry);
    entry.slot = pending.add(entry);
  };
  // One sink for the whole call: the tasks' outcomes come here, not through a promise each.
  const sink: ResultSink<Pending> = {
    taskDone: (entry, value) => {
      entry.value = value;
      settle(entry);
    },
    taskFailed: (entry, error) => {
      entry.failed = true;
      entry.value = error;
      settle(entry);
    },
  };
  const settle = (entry: Pending): void => {
    if (!stopping) options.progress?.settled(entry.count, !entry.failed);
    completed.push(entry);
    // Once per batch: the results of one frame come in a row, and a call of a settled promise's
    // resolve per result was a measurable share of a trivial map.
    if (wake !== null) {
      const resolve = wake;
      wake = null;
      resolve();
    }
  };
  const fill = async (): Promise<void> => {
    while (!exhausted && aborted === null && pending.size < options.window) {
      if (options.chunkSize === 1 && !isAsync) {
        // One item per task, read without an await: no batch array per task.
        const step = iterator.next() as IteratorResult<unknown>;
        if (step.done) {
          exhausted = true;
          options.progress?.total(next);
        } else {
          launchOne(step.value);
        }
        continue;
      }
      const batch: unknown[] = [];
      while (batch.length < options.chunkSize) {
        // A plain iterable's items are read without an await each (a promise and a turn per item).
        const step = isAsync ? await iterator.next() : (iterator.next() as IteratorResult<unknown>);
        if (step.done) {
          exhausted = true;
          options.progress?.total(next + batch.length);
          break;
        }
        batch.push(step.value);
      }
      if (batch.length > 0) launch(batch);
    }
  };

  try {
    if (signal?.aborted) throw new CancelledError(`the map/stream call (${options.label ?? 'map'}) was aborted before it started`, { cause: signal.reason });
    signal?.addEventListener('abort', onAbort, { once: true });
    options.progress?.begin();
    await fill();
    while (pending.size > 0 || aborted !== null) {
      if (aborted !== null) throw aborted;
      if (completed.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      wake = null;
      const batch: StreamResult<R>[] = [];
      let failure: { error: unknown } | null = null;
      for (const done of completed.splice(0)) {
        pending.remove(done.slot);
        if (done.failed) {
          failure = { error: done.value };
          break;
        }
        if (options.chunkSize > 1) {
          const values = done.value as unknown[];
          for (let i = 0; i < values.length; i++) batch.push({ index: done.start + i, value: values[i] as R });
        } else {
          batch.push({ index: done.start, value: done.value as R });
        }
      }
      if (batch.length > 0) yield batch;
      if (failure) throw failure.error;
      await fill();
    }
  } finally {
    stopping = true;
    signal?.removeEventListener('abort', onAbort);
    if (pending.size > 0) cancelPending(new CancelledError('cancelled: another task of the same map/stream failed, or the loop ended early'));
    options.progress?.end();
    if (!exhausted) await iterator.return?.();
  }
}
