import type { TaskSpec } from '../../protocol/core-methods.js';
import type { OutcomeSink, Settled, ShippedCode } from '../engine/task.js';
import { CancelledError, ClusterClosedError, type ClustrixError } from '../errors/errors.js';
import type { TaskCancel, Transport } from '../transport/transport.js';
import type { ResolvedTaskOptions } from './task-options.js';
import type { Values } from './values.js';

/** A submitted task, as its caller holds it. */
export interface TaskControl {
  /** Unique among its submitter's submissions. */
  readonly id: string;
  /** Settles the task with `error` now: dropped if queued, cancelled on its agent if running. */
  cancel(error: ClustrixError): void;
}

/** One submitted task whose outcome is a promise. */
export interface Submission extends TaskControl {
  /** Settles with the decoded result, or a typed error. */
  readonly result: Promise<unknown>;
}

/** Hears each task's decoded outcome, once; `tag` says which (one sink serves a whole map). */
export interface ResultSink<T> {
  taskDone(tag: T, value: unknown): void;
  taskFailed(tag: T, error: unknown): void;
}

/** What a map/stream adds to each of its tasks. */
export interface SubmitExtra {
  chunk?: boolean;
  /** The call's id for fair sharing (a map's tasks share one). */
  group?: string;
  /** The call the task is part of (history and the dashboard group by it). */
  call?: { id: string; label: string };
}

/** What `map`/`stream` need to submit their tasks. */
export interface TaskSubmitter {
  /** `extra.group` names the call the task belongs to (a map's tasks share a fair share). The outcome goes to `sink` (at once if refused). */
  start<T>(code: ShippedCode, exportName: string | null, args: unknown[], options: ResolvedTaskOptions, extra: SubmitExtra, sink: ResultSink<T>, tag: T): TaskControl;
}

const NO_EXTRA: SubmitExtra = {};

/**
 * Turns a call into a core `submit` over the cluster's transport: packs the arguments (refusing
 * what cannot travel before anything is sent), ships the code once, wires the AbortSignal, and
 * decodes the result.
 */
export class TaskCaller implements TaskSubmitter {
  private next = 0;

  constructor(
    /** @internal For the tasks' handles. */
    readonly transport: Transport,
    /** @internal For the tasks' handles. */
    readonly values: Values,
    private readonly isClosed: () => boolean,
  ) {}

  /** {@link start} with the outcome as a promise (`run`, `remote()` functions). */
  submit(code: ShippedCode, exportName: string | null, args: unknown[], options: ResolvedTaskOptions, extra: SubmitExtra = NO_EXTRA): Submission {
    const deferred = new Deferred();
    const task = this.start(code, exportName, args, options, extra, deferred, null);
    return { id: task.id, result: deferred.promise, cancel: (error) => task.cancel(error) };
  }

  start<T>(code: ShippedCode, exportName: string | null, args: unknown[], options: ResolvedTaskOptions, extra: SubmitExtra, sink: ResultSink<T>, tag: T): TaskControl {
    const id = this.taskId();
    if (this.isClosed()) return refused(id, new ClusterClosedError(), sink, tag);
    const signal = options.signal;
    if (signal?.aborted) return refused(id, new CancelledError(`task ${id} (${code.name}) was aborted before it started`, { cause: signal.reason }), sink, tag);
    const chunk = extra.chunk ?? false;
    // The handle names the task in errors, building the name only then.
    const task = new TaskHandle(this, id, code.name, signal, sink, tag);
    const packed = this.values.packArgs(args, task, chunk);
    // Optional keys are added after the literal, not spread into it: a spread builds the object
    // in the runtime's slow path, a measurable share of a trivial map (and a larger object).
    const spec: TaskSpec = {
      id,
      code: code.hash,
      export: exportName,
      args: packed.bytes,
      refs: packed.refs,
      keep: null,
      inline: options.inline,
      chunk,
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      retryExceptions: options.retryExceptions,
      priority: options.priority,
      weight: options.weight,
      group: extra.group ?? null,
      resources: options.resources,
    };
    if (packed.lazy.length > 0) spec.lazy = packed.lazy;
    if (options.pool !== null) spec.pool = options.pool;
    if (extra.call) spec.call = extra.call;
    this.transport.ship(code);
    signal?.addEventListener('abort', task, { once: true });
    // A submitted call's result is delivered once and kept nowhere (kept results go through refs).
    task.local = this.transport.submitTask(spec, task);
    return task;
  }

  /** Runs a task once on every ready agent; one result per agent, in `agents()` order. */
  async broadcast(code: ShippedCode, exportName: string | null, args: unknown[], options: ResolvedTaskOptions): Promise<unknown[]> {
    if (this.isClosed()) throw new ClusterClosedError();
    const what = `a broadcast of ${code.name}`;
    const packed = this.values.packArgs(args, what);
    this.transport.ship(code);
    const { inline, timeoutMs, retryExceptions } = options;
    const values = await this.transport.call('broadcast', { code: code.hash, export: exportName, args: packed.bytes, refs: packed.refs, lazy: packed.lazy, inline, timeoutMs, retries: 0, retryExceptions });
    return values.map((v) => this.values.unpack(v, `a result of ${what}`));
  }

  /**
   * Submits a task whose result stays on the cluster under `objectId`; resolves once the task is
   * queued (its errors come with the value).
   */
  submitRef(code: ShippedCode, exportName: string | null, args: unknown[], options: ResolvedTaskOptions, objectId: string): Promise<null> {
    const id = this.taskId();
    if (this.isClosed()) return Promise.reject(new ClusterClosedError());
    const packed = this.values.packArgs(args, `task ${id} (${code.name})`);
    this.transport.ship(code);
    const { inline, timeoutMs, retries, retryExceptions, priority, weight, resources, pool } = options;
    return this.transport.call('submitRef', {
      id, code: code.hash, export: exportName, args: packed.bytes, refs: packed.refs, lazy: packed.lazy, keep: objectId, inline, chunk: false, timeoutMs, retries, retryExceptions, priority, weight, group: null, resources, pool,
    });
  }

  /**
   * A task's id, `t<n>`: it names the task in log prefixes and errors, and ends in a counter, so
   * a service finds it among its client's unsettled tasks without hashing it (util/task-index.ts).
   */
  private taskId(): string {
    return `t${++this.next}`;
  }
}

/**
 * One task from submission until its outcome reaches the sink, whichever comes first: the result,
 * or a cancel/abort. One object per task, which is also its outcome sink and its abort listener
 * (a promise and a closure per role were a measurable share of a trivial map).
 */
class TaskHandle<T> implements OutcomeSink, TaskControl {
  private done = false;
  /** The transport's own cancel of the task, if it has one (else by id). */
  local: TaskCancel | null = null;

  constructor(
    private readonly caller: TaskCaller,
    readonly id: string,
    private readonly codeName: string,
    private readonly signal: AbortSignal | null,
    private readonly sink: ResultSink<T>,
    private readonly tag: T,
  ) {}

  settled(outcome: Settled): void {
    if (!this.finish()) return;
    if (!outcome.ok) {
      this.sink.taskFailed(this.tag, outcome.error);
      return;
    }
    let value: unknown;
    try {
      value = this.caller.values.unpackResult(outcome.value, this, true);
    } catch (err) {
      this.sink.taskFailed(this.tag, err);
      return;
    }
    this.sink.taskDone(this.tag, value);
  }

  cancel(error: ClustrixError): void {
    if (!this.finish()) return;
    this.sink.taskFailed(this.tag, error);
    // The engine hears what scope.cancel(id) would tell it (its history counts the task cancelled).
    if (this.local !== null) this.local.cancel(new CancelledError(`task ${this.id} was cancelled`));
    else this.caller.transport.call('cancel', this.id).catch(() => undefined);
  }

  /** The task's AbortSignal fired. */
  handleEvent(): void {
    this.cancel(new CancelledError(`${this.name()} was aborted`, { cause: this.signal?.reason }));
  }

  /** How errors name the task. */
  name(): string {
    return `task ${this.id} (${this.codeName})`;
  }

  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    this.signal?.removeEventListener('abort', this);
    return true;
  }
}

/** A result as a promise. */
class Deferred implements ResultSink<null> {
  readonly promise: Promise<unknown>;
  private resolve!: (value: unknown) => void;
  private reject!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
  }

  taskDone(_tag: null, value: unknown): void {
    this.resolve(value);
  }

  taskFailed(_tag: null, error: unknown): void {
    this.reject(error);
  }
}

/** A task refused before it was sent: its sink hears why at once. */
function refused<T>(id: string, error: ClustrixError, sink: ResultSink<T>, tag: T): TaskControl {
  sink.taskFailed(tag, error);
  return { id, cancel: () => undefined };
}
