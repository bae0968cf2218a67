import type { RemoteErrorInfo } from '../protocol/common.js';
import type { ActorReplyToThread, ActorRequestFromThread } from './actor-bridge.js';
import type { ObjectBytesToThread, ObjectReadFromThread } from './objects/object-reads.js';
import type { CodeSource } from './task-code.js';
import type { PackedResults, PackedRuns } from './thread-batch.js';

/**
 * Messages between the agent's main thread and its worker threads. Both ends are our own code in
 * one process, so these are plain types, not validated schemas. Runs and results travel in
 * batches: one postMessage per batch, not per task, is what keeps trivial tasks cheap.
 */
export interface RunInThread {
  id: string;
  hash: string;
  /** The code itself, the first time this thread sees the hash. */
  code: CodeSource | null;
  export: string | null;
  args: Uint8Array;
  chunk: boolean;
  /** Bytes of the objects its top-level ref arguments name (copied: the agent's store keeps its own). */
  deps: ReadonlyMap<string, Uint8Array>;
  /** Runs before the thread's queued runs that are not express. */
  express: boolean;
  /**
   * Its result may leave from the thread itself (thread-writes.ts): set on a lone post of a run
   * whose result is not kept in the agent's store.
   */
  direct?: boolean;
}

/**
 * A post of one run, flat: most posts to an idle thread carry one (a task awaited at a time, a
 * broadcast), and the clone of a batch's arrays and the run's empty deps Map is most of what it
 * costs to cross. `deps` is left out when empty.
 */
export type OneRun = { type: 'one' } & Omit<RunInThread, 'deps'> & { deps?: ReadonlyMap<string, Uint8Array> };

/** A run as its lone post carries it (its deps left out when empty); `direct`: see RunInThread. */
export function oneRun({ deps, ...run }: RunInThread, direct: boolean): OneRun {
  const one: OneRun = deps.size === 0 ? { type: 'one', ...run } : { type: 'one', ...run, deps };
  if (direct) one.direct = true;
  return one;
}

const NO_DEPS: ReadonlyMap<string, Uint8Array> = new Map();

/** The run a lone post carries ({@link oneRun} undone; a literal, not a rest and a spread: every lone task crosses here). */
export function runOfOne(m: OneRun): RunInThread {
  return { id: m.id, hash: m.hash, code: m.code, export: m.export, args: m.args, chunk: m.chunk, deps: m.deps ?? NO_DEPS, express: m.express, direct: m.direct === true };
}

export type ToThread =
  /** Runs in one batch, packed (thread-batch.ts). */
  | ({ type: 'run' } & PackedRuns)
  | OneRun
  /** Drop a queued run that was cancelled before it started (ignored if it already did). */
  | { type: 'skip'; id: string }
  | ActorReplyToThread
  | ObjectBytesToThread;

/** `sent`: the thread wrote the result's frame itself (thread-writes.ts); `value` is then empty. */
export type ThreadResult = { type: 'done'; id: string; value: Uint8Array; refs: string[]; runMs: number; sent?: true } | { type: 'failed'; id: string; error: RemoteErrorInfo };

export type FromThread =
  /** Results in one batch, packed (thread-batch.ts). */
  | ({ type: 'results' } & PackedResults)
  /** A batch of one result goes as it is (see OneRun). */
  | ThreadResult
  | { type: 'log'; id: string | null; stream: 'stdout' | 'stderr'; text: string }
  | ActorRequestFromThread
  | ObjectReadFromThread;

/**
 * Where an express job goes in a thread's queue (the first entry is running): after the express
 * jobs already there. Both ends put it at the same place.
 */
export function expressEnd(queue: readonly { express?: boolean | undefined }[], from = 1): number {
  let i = Math.min(from, queue.length);
  while (i < queue.length && queue[i]!.express) i++;
  return i;
}
