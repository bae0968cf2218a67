import { nanoid } from 'nanoid';
import { packValue, unpackValue } from '../protocol/values.js';
import { CancelledError, ClusterClosedError, ClustrixError } from './errors.js';
import type { Scheduler } from './scheduler.js';
import type { ResolvedTaskOptions } from './task-options.js';
import type { ShippedCode, TaskOutcome, TaskRecord } from './task.js';

export interface Submission {
  readonly task: TaskRecord;
  /** Settles with the decoded result, or a typed error. */
  readonly result: Promise<unknown>;
}

/**
 * Turns a call into a task record: packs the arguments once, wires the AbortSignal, and decodes
 * the result when the scheduler delivers it.
 */
export class Submitter {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly isClosed: () => boolean,
  ) {}

  submit(code: ShippedCode, exportName: string | null, args: unknown[], options: ResolvedTaskOptions, extra: { chunk?: boolean; pinned?: string } = {}): Submission {
    let resolve!: (value: unknown) => void;
    let reject!: (err: unknown) => void;
    const result = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const signal = options.signal;
    const onAbort = (): void => this.scheduler.cancel(task, new CancelledError(`task ${task.id} (${code.name}) was aborted`, { cause: signal?.reason }));
    const task: TaskRecord = {
      id: nanoid(12),
      code,
      export: exportName,
      args: packArgs(args),
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
    return { task, result };
  }

  cancel(task: TaskRecord, error: ClustrixError): void {
    this.scheduler.cancel(task, error);
  }
}

function packArgs(args: unknown[]): Uint8Array {
  try {
    return packValue(args);
  } catch (cause) {
    throw new ClustrixError('ARGS_NOT_SERIALIZABLE', `the task's arguments cannot be serialized: ${(cause as Error).message}`, {
      cause,
      hint: 'arguments must be data (objects, arrays, Map, Set, Date, typed arrays, BigInt), not functions or sockets',
    });
  }
}
