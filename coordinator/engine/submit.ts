import { nanoid } from 'nanoid';
import { unpackValue } from '../../protocol/values.js';
import { checkSize, packArguments } from './pack.js';
import { CancelledError, ClusterClosedError, ClustrixError } from '../errors/errors.js';
import type { Scheduler } from './scheduler.js';
import type { ResolvedTaskOptions } from '../api/task-options.js';
import type { ShippedCode, TaskOutcome, TaskRecord } from './task.js';

/** One submitted task, wherever it runs. */
export interface Submission {
  readonly id: string;
  /** Settles with the decoded result, or a typed error. */
  readonly result: Promise<unknown>;
  /** Settles the task with `error` now: dropped if queued, cancelled on its agent if running. */
  cancel(error: ClustrixError): void;
}

export interface SubmitExtra {
  /** `args` is a list of argument lists; the result is the list of their results. */
  chunk?: boolean;
  /** Only this agent may run it. */
  pinned?: string;
  /** The arguments, packed already (a service forwards a client's bytes): `args` is ignored. */
  packedArgs?: Uint8Array;
  /** Resolve with the result's msgpack bytes instead of decoding them (the service forwards them). */
  rawResult?: boolean;
}

/**
 * What `map`/`stream`/`run` need to submit tasks: the in-process {@link Submitter}, or a client
 * of a clustrix service (coordinator/client/) sending them over a WebSocket.
 */
export interface TaskSubmitter {
  submit(code: ShippedCode, exportName: string | null, args: unknown[], options: ResolvedTaskOptions, extra?: SubmitExtra): Submission;
}

/** A submission to this process's scheduler: its task record is reachable. */
export interface LocalSubmission extends Submission {
  readonly task: TaskRecord;
}

/**
 * Turns a call into a task record: packs the arguments once, wires the AbortSignal, and decodes
 * the result when the scheduler delivers it.
 */
export class Submitter implements TaskSubmitter {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly isClosed: () => boolean,
    private readonly maxFrameBytes: number,
  ) {}

  submit(code: ShippedCode, exportName: string | null, args: unknown[], options: ResolvedTaskOptions, extra: SubmitExtra = {}): LocalSubmission {
    let resolve!: (value: unknown) => void;
    let reject!: (err: unknown) => void;
    const result = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const signal = options.signal;
    const onAbort = (): void => this.scheduler.cancel(task, new CancelledError(`task ${task.id} (${code.name}) was aborted`, { cause: signal?.reason }));
    const id = nanoid(12);
    const what = `task ${id} (${code.name})`;
    // A service forwards a client's packed bytes: they are checked against this pool's limit here.
    if (extra.packedArgs) checkSize(extra.packedArgs.byteLength, this.maxFrameBytes, `the arguments of ${what}`, 'arguments');
    const task: TaskRecord = {
      id,
      code,
      export: exportName,
      args: extra.packedArgs ?? packArguments(args, this.maxFrameBytes, what),
      inline: options.inline,
      chunk: extra.chunk ?? false,
      timeoutMs: options.timeoutMs,
      lossRetriesLeft: options.retries,
      exceptionRetriesLeft: options.retryExceptions,
      pinned: extra.pinned ?? null,
      link: null,
      settled: false,
      deliver: (outcome: TaskOutcome) => {
        signal?.removeEventListener('abort', onAbort);
        if (!outcome.ok) {
          reject(outcome.error);
          return;
        }
        if (extra.rawResult) {
          resolve(outcome.value);
          return;
        }
        try {
          resolve(unpackValue(outcome.value));
        } catch (cause) {
          reject(new ClustrixError('RESULT_DECODE_FAILED', `the result of task ${task.id} could not be decoded`, { cause }));
        }
      },
    };
    if (this.isClosed()) {
      task.settled = true;
      reject(new ClusterClosedError());
    } else if (signal?.aborted) {
      task.settled = true;
      reject(new CancelledError(`task ${task.id} (${code.name}) was aborted before it started`, { cause: signal.reason }));
    } else {
      signal?.addEventListener('abort', onAbort, { once: true });
      this.scheduler.submit(task);
    }
    return { id: task.id, task, result, cancel: (error) => this.scheduler.cancel(task, error) };
  }

  cancel(task: TaskRecord, error: ClustrixError): void {
    this.scheduler.cancel(task, error);
  }
}
