import type { TaskSpec } from '../../protocol/core-methods.js';
import { ClusterClosedError, type ClustrixError } from '../errors/errors.js';
import { checkSize } from './pack.js';
import type { Scheduler } from './scheduler.js';
import type { ShippedCode, TaskOrigin, TaskOutcome, TaskRecord } from './task.js';
import type { WorkTracker } from './work-tracker.js';

/** One submitted task, wherever it runs. */
export interface Submission {
  readonly id: string;
  /** Settles with the packed result, or a typed error. */
  readonly result: Promise<Uint8Array>;
  /** Settles the task with `error` now: dropped if queued, cancelled on its agent if running. */
  cancel(error: ClustrixError): void;
}

/** A submission to this process's scheduler: its task record is reachable. */
export interface LocalSubmission extends Submission {
  readonly task: TaskRecord;
}

/** Turns a task spec into a task record for the scheduler, and its outcome into a promise. */
export class Submitter {
  constructor(
    private readonly scheduler: Scheduler,
    private readonly isClosed: () => boolean,
    private readonly maxFrameBytes: number,
    private readonly tracker: WorkTracker | null = null,
  ) {}

  /** `id` is the engine's own (unique across callers); `spec.id` is the caller's. */
  /** `share` names the task's share-holder (share-queue.ts). */
  submit(id: string, spec: TaskSpec, code: ShippedCode, share: string, pinned: string | null = null, origin: TaskOrigin | null = null): LocalSubmission {
    let resolve!: (value: Uint8Array) => void;
    let reject!: (err: unknown) => void;
    const result = new Promise<Uint8Array>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    checkSize(spec.args.byteLength, this.maxFrameBytes, `the arguments of task ${spec.id} (${code.name})`, 'arguments');
    const task: TaskRecord = {
      id,
      code,
      export: spec.export,
      args: spec.args,
      inline: spec.inline,
      chunk: spec.chunk,
      timeoutMs: spec.timeoutMs,
      priority: spec.priority,
      share,
      weight: spec.weight,
      resources: pinned === null ? spec.resources : null,
      lossRetriesLeft: spec.retries,
      exceptionRetriesLeft: spec.retryExceptions,
      pinned,
      link: null,
      settled: false,
      origin,
      startedAt: null,
      lastAgent: null,
      deliver: (outcome: TaskOutcome) => {
        this.tracker?.settled(task, outcome);
        if (outcome.ok) resolve(outcome.value);
        else reject(outcome.error);
      },
    };
    if (this.isClosed()) {
      task.settled = true;
      reject(new ClusterClosedError());
    } else {
      this.tracker?.submitted(task);
      this.scheduler.submit(task);
    }
    return { id, task, result, cancel: (error) => this.scheduler.cancel(task, error) };
  }
}
