import { nanoid } from 'nanoid';
import type { TaskSpec } from '../../protocol/core-methods.js';
import { ClusterClosedError, type ClustrixError } from '../errors/errors.js';
import type { ObjectDirectory } from './object-directory.js';
import { PipelinedDeps } from './pipelined-deps.js';
import { valueTooLarge } from './pack.js';
import { releasePacked } from '../../protocol/values.js';
import { valueLimit } from '../../protocol/version.js';
import type { Scheduler } from './scheduler.js';
import type { OutcomeSink, Settled, ShippedCode, TaskOrigin, TaskOutcome, TaskRecord } from './task.js';
import type { WorkTracker } from './work-tracker.js';

/** One submitted task, wherever it runs. */
export interface Submission {
  readonly id: string;
  /** Settles with the packed result, or a typed error. */
  readonly result: Promise<Uint8Array>;
  /** Settles the task with `error` now: dropped if queued, cancelled on its agent if running. */
  cancel(error: ClustrixError): void;
}

/** A task of this process's scheduler: its record is reachable. */
export interface LocalTask {
  readonly id: string;
  readonly task: TaskRecord;
  /** Absent when the outcome goes to a sink ({@link Submitter.submitTo}). */
  readonly result?: Promise<Uint8Array>;
  cancel(error: ClustrixError): void;
}

/** A submission to this process's scheduler whose outcome is a promise. */
export interface LocalSubmission extends Submission {
  readonly task: TaskRecord;
}

/** Cancels through the scheduler; a class, so that a task costs no closure for it. */
class Handle implements LocalTask {
  /** Set once made (the record's outcome comes back to this handle). */
  task!: TaskRecord;

  constructor(
    readonly id: string,
    private readonly scheduler: Scheduler,
  ) {}

  cancel(error: ClustrixError): void {
    this.scheduler.cancel(this.task, error);
  }
}

/** {@link Handle} with the outcome as a promise. */
class PromisedHandle extends Handle implements LocalSubmission, OutcomeSink {
  readonly result: Promise<Uint8Array>;
  private resolve!: (value: Uint8Array) => void;
  private reject!: (error: unknown) => void;

  constructor(id: string, scheduler: Scheduler) {
    super(id, scheduler);
    this.result = new Promise<Uint8Array>((res, rej) => {
      this.resolve = res;
      this.reject = rej;
    });
  }

  settled(outcome: Settled): void {
    if (outcome.ok) this.resolve(outcome.value);
    else this.reject(outcome.error);
  }
}

/**
 * Turns a task spec into a task record for the scheduler, and its outcome into a promise. A task
 * whose arguments hold refs waits (pinning them) until every one exists, then goes to the
 * scheduler with where they are; one that keeps its result registers it in the directory with its
 * lineage (itself), so a lost copy is made again.
 */
export class Submitter {
  private readonly dependents: PipelinedDeps;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly directory: ObjectDirectory,
    private readonly isClosed: () => boolean,
    private readonly maxFrameBytes: number,
    private readonly tracker: WorkTracker | null = null,
  ) {
    this.dependents = new PipelinedDeps(directory, scheduler);
    scheduler.setParkHooks(this.dependents);
  }

  /** Tasks sent parked to the agent making their ref arguments so far. */
  get parked(): number {
    return this.dependents.parkedCount;
  }

  /** `id` is the engine's own (unique across callers); `spec.id` is the caller's; `share` names the task's share-holder (share-queue.ts). */
  submit(id: string, spec: TaskSpec, code: ShippedCode, share: string, pinned: string | null = null, origin: TaskOrigin | null = null): LocalSubmission {
    this.checkArgs(spec, code);
    const keep = spec.keep;
    if (keep !== null) {
      const lineage = { retriesLeft: spec.retries, what: `task ${spec.id} (${code.name})`, rerun: () => void this.attempt(nanoid(12), spec, code, share, null, origin) };
      this.directory.expect(keep, lineage);
    }
    return this.attempt(id, spec, code, share, pinned, origin);
  }

  /**
   * {@link submit} of a task that keeps no result, its outcome told to `sink` instead of a promise
   * (at once if it cannot be queued).
   */
  submitTo(id: string, spec: TaskSpec, code: ShippedCode, share: string, sink: OutcomeSink, origin: TaskOrigin | null = null): LocalTask {
    this.checkArgs(spec, code);
    const handle = new Handle(id, this.scheduler);
    handle.task = this.record(id, spec, code, share, null, origin, sink);
    this.enqueue(handle.task, spec, sink);
    return handle;
  }

  private attempt(id: string, spec: TaskSpec, code: ShippedCode, share: string, pinned: string | null, origin: TaskOrigin | null): LocalSubmission {
    const handle = new PromisedHandle(id, this.scheduler);
    const task = (handle.task = this.record(id, spec, code, share, pinned, origin, handle));
    const keep = spec.keep;
    if (keep !== null) {
      this.dependents.producing(keep, task);
      handle.result.catch((err: unknown) => this.directory.failed(keep, (err as Error).message, err as Error));
    }
    this.enqueue(task, spec, handle);
    return handle;
  }

  /** The task's record; its outcome goes to `sink` after the engine's bookkeeping. */
  private record(id: string, spec: TaskSpec, code: ShippedCode, share: string, pinned: string | null, origin: TaskOrigin | null, sink: OutcomeSink): TaskRecord {
    return new SubmittedTask(this, id, spec, code, share, pinned, origin, sink);
  }

  /** @internal `task`'s outcome, once: the engine's bookkeeping, then its sink. */
  delivered(task: SubmittedTask, outcome: TaskOutcome): void {
    this.dependents.settled(task);
    this.tracker?.settled(task, outcome);
    // Before the arguments' pins go (a ref the task passed back may be held by nothing else).
    if (outcome.ok && outcome.refs && outcome.refs.length > 0) {
      for (const ref of outcome.refs) this.directory.pin(ref);
      task.resultRefs = outcome.refs;
    }
    // The scope that submitted it forgets it (and adopts its result's refs) before its caller hears.
    const origin = task.origin;
    if (origin?.scope) origin.scope.taskSettled(task, origin, outcome.ok);
    task.sink.settled(outcome);
    // The arguments' refs stay pinned until the task settled; released after its caller heard.
    const refs = task.refs;
    if (refs.length > 0) queueMicrotask(() => this.unpin(refs));
    else if (outcome.ok && task.sends === 1 && task.keep === null && task.pinned === null && task.args.byteLength >= RELEASE_MIN_BYTES) {
      // Sent once and answered by that agent: it had every byte, nothing sends them again (no
      // retry, no lineage, no broadcast copy), and no one reads a task's arguments after it.
      releasePacked(task.args);
    }
  }

  /** Refuses arguments too large for a frame; the message is built only then (a string per task otherwise). */
  private checkArgs(spec: TaskSpec, code: ShippedCode): void {
    const bytes = spec.args.byteLength;
    if (bytes > valueLimit(this.maxFrameBytes)) throw valueTooLarge(bytes, this.maxFrameBytes, `the arguments of task ${spec.id} (${code.name})`, 'arguments');
  }

  private enqueue(task: TaskRecord, spec: TaskSpec, sink: OutcomeSink): void {
    if (this.isClosed()) {
      // Never queued: nothing to account for, nobody else to tell.
      task.settled = true;
      sink.settled({ ok: false, error: new ClusterClosedError() });
      return;
    }
    this.tracker?.submitted(task);
    if (spec.refs.length === 0) this.scheduler.submit(task);
    else this.afterRefs(task, spec.refs, spec.lazy ?? []);
  }

  private unpin(refs: readonly string[]): void {
    for (const ref of refs) this.directory.unpin(ref);
  }

  /**
   * The refs stay pinned while the task is not settled; it is queued once they all exist, preferably
   * where its eager ones are (the `lazy` ones, nested only, may never move), or parked on the agent
   * making them (pipelined-deps.ts).
   */
  private afterRefs(task: TaskRecord, refs: readonly string[], lazy: readonly string[]): void {
    for (const ref of refs) this.directory.pin(ref);
    this.dependents.wait(task, refs, lazy);
  }
}

/** Arguments smaller than this never came from a buffer of their own (values.ts). */
const RELEASE_MIN_BYTES = 1024 * 1024;

/**
 * A submitter's task record. A class whose `deliver` is a method: a closure per task (and its
 * context) was a measurable share of a trivial map's allocation. Every field is set here, so each
 * record has one shape from the start.
 */
class SubmittedTask implements TaskRecord {
  readonly export: string | null;
  readonly args: Uint8Array;
  readonly inline: boolean;
  readonly chunk: boolean;
  readonly timeoutMs: number | null;
  readonly priority: number;
  readonly weight: number;
  readonly resources: TaskRecord['resources'];
  readonly pool: string | null;
  lossRetriesLeft: number;
  exceptionRetriesLeft: number;
  readonly keep: string | null;
  /** Its arguments' refs, pinned until it settled. */
  readonly refs: readonly string[];
  deps: TaskRecord['deps'] = [];
  prefer: string[] | undefined = undefined;
  link: TaskRecord['link'] = null;
  parked = false;
  withdrawing = false;
  settled = false;
  startedAt: number | null = null;
  lastAgent: string | null = null;
  sends = 0;
  resultRefs: readonly string[] | undefined = undefined;

  constructor(
    private readonly submitter: Submitter,
    readonly id: string,
    spec: TaskSpec,
    readonly code: ShippedCode,
    readonly share: string,
    readonly pinned: string | null,
    readonly origin: TaskOrigin | null,
    readonly sink: OutcomeSink,
  ) {
    this.export = spec.export;
    this.args = spec.args;
    this.inline = spec.inline;
    this.chunk = spec.chunk;
    this.timeoutMs = spec.timeoutMs;
    this.priority = spec.priority;
    this.weight = spec.weight;
    this.resources = pinned === null ? spec.resources : null;
    this.pool = pinned === null ? (spec.pool ?? null) : null;
    this.lossRetriesLeft = spec.retries;
    this.exceptionRetriesLeft = spec.retryExceptions;
    this.keep = spec.keep;
    this.refs = spec.refs;
  }

  deliver(outcome: TaskOutcome): void {
    this.submitter.delivered(this, outcome);
  }
}
