import type { TaskSpec } from '../../protocol/core-methods.js';
import type { ShippedCode } from '../engine/task.js';
import { CancelledError, ClusterClosedError, type ClustrixError } from '../errors/errors.js';
import type { Transport } from '../transport/transport.js';
import type { ResolvedTaskOptions } from './task-options.js';
import type { Values } from './values.js';

/** One submitted task. */
export interface Submission {
  /** Unique among its submitter's submissions. */
  readonly id: string;
  /** Settles with the decoded result, or a typed error. */
  readonly result: Promise<unknown>;
  /** Settles the task with `error` now: dropped if queued, cancelled on its agent if running. */
  cancel(error: ClustrixError): void;
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
  /** `extra.group` names the call the task belongs to (a map's tasks share a fair share). */
  submit(code: ShippedCode, exportName: string | null, args: unknown[], options: ResolvedTaskOptions, extra?: SubmitExtra): Submission;
}

/**
 * Turns a call into a core `submit` over the cluster's transport: packs the arguments (refusing
 * what cannot travel before anything is sent), ships the code once, wires the AbortSignal, and
 * decodes the result.
 */
export class TaskCaller implements TaskSubmitter {
  private next = 0;

  constructor(
    private readonly transport: Transport,
    private readonly values: Values,
    private readonly isClosed: () => boolean,
  ) {}

  submit(code: ShippedCode, exportName: string | null, args: unknown[], options: ResolvedTaskOptions, extra: SubmitExtra = {}): Submission {
    const id = `t${++this.next}`;
    const what = `task ${id} (${code.name})`;
    if (this.isClosed()) return this.refused(id, new ClusterClosedError());
    const signal = options.signal;
    if (signal?.aborted) return this.refused(id, new CancelledError(`${what} was aborted before it started`, { cause: signal.reason }));
    const chunk = extra.chunk ?? false;
    const packed = this.values.packArgs(args, what, chunk);
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
    // One promise per task, settled by whichever comes first: the result, or a cancel/abort
    // (a race of two promises and a finally was a measurable share of a trivial map).
    let resolve!: (value: unknown) => void;
    let reject!: (error: unknown) => void;
    const result = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const cancel = (error: ClustrixError): void => {
      if (!finish()) return;
      reject(error);
      this.transport.call('cancel', id).catch(() => undefined);
    };
    const onAbort = (): void => cancel(new CancelledError(`${what} was aborted`, { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    // A submitted call's result is delivered once and kept nowhere (kept results go through refs).
    this.transport.call('submit', spec).then(
      (bytes) => {
        if (!finish()) return;
        try {
          resolve(this.values.unpack(bytes, `the result of ${what}`, true));
        } catch (err) {
          reject(err);
        }
      },
      (err: unknown) => {
        if (finish()) reject(err);
      },
    );
    return { id, result, cancel };
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
    const id = `t${++this.next}`;
    if (this.isClosed()) return Promise.reject(new ClusterClosedError());
    const packed = this.values.packArgs(args, `task ${id} (${code.name})`);
    this.transport.ship(code);
    const { inline, timeoutMs, retries, retryExceptions, priority, weight, resources, pool } = options;
    return this.transport.call('submitRef', {
      id, code: code.hash, export: exportName, args: packed.bytes, refs: packed.refs, lazy: packed.lazy, keep: objectId, inline, chunk: false, timeoutMs, retries, retryExceptions, priority, weight, group: null, resources, pool,
    });
  }

  private refused(id: string, error: ClustrixError): Submission {
    return { id, result: Promise.reject(error), cancel: () => undefined };
  }
}
