import type { ClustrixError } from '../../protocol/errors.js';
import type { Dep } from '../../protocol/object-messages.js';
import type { Resources } from '../../protocol/resources.js';
import type { AgentLink } from './link.js';
import type { LogEntry } from '../../protocol/rows.js';

/**
 * A task's scope as its origin holds it (scope.ts's EngineScope): where its log lines go, and who
 * hears it settle. Named here, not imported: a type import of scope.ts would put the engine, and
 * ws, in the published types.
 */
export interface OriginScope {
  emitLog(entry: LogEntry): void;
  taskSettled(task: TaskRecord, origin: TaskOrigin, ok: boolean): void;
}

/** Code as it is shipped: a function's source, or a bundled ES module. */
export interface ShippedCode {
  hash: string;
  kind: 'function' | 'module';
  source: string;
  /** For messages: the function's or module's name. */
  name: string;
  /**
   * The same module for the agents of these pools, whose packages live elsewhere (module links
   * differ per pool: this machine's node_modules, a cluster's install): other source, other hash.
   */
  byPool?: Readonly<Record<string, { hash: string; source: string }>>;
}

/** `refs`: ids of the refs inside the value (a result that travels back; a kept one's are the directory's). */
export type TaskOutcome = { ok: true; value: Uint8Array; agentId: string; refs?: readonly string[] | undefined } | { ok: false; error: ClustrixError };

/** A submitted task's outcome: its packed result, or why there is none. */
export type Settled = { readonly ok: true; readonly value: Uint8Array } | { readonly ok: false; readonly error: unknown };

/**
 * Hears one task's outcome, once. An object, not a callback: a task's handle is its own sink, so a
 * task costs no closures and no promise between the engine and its caller (each was a measurable
 * share of a trivial map's allocation and of one awaited run's wake-ups).
 */
export interface OutcomeSink {
  settled(outcome: Settled): void;
}

/** Who asked for a task and as part of what: for history, metrics and the dashboard. */
export interface TaskOrigin {
  /** The scope's name: `this program`, or a service client's id and name. */
  readonly client: string;
  /** The caller's id of the task. */
  readonly taskId: string;
  /** The map/stream it belongs to (the task's own id for a single call). */
  readonly callId: string;
  readonly label: string;
  readonly submittedAt: number;
  /**
   * The scope whose task it is, when a scope submitted it: its log lines go there while it runs
   * (found through its link's in-flight tasks) and for a grace period after (the engine's lingering owners).
   */
  readonly scope?: OriginScope;
  /** Its place among its scope's own tasks (EngineScope.submitOwn), which have no by-id entry; -1: it has one. */
  ownSlot?: number;
}

/** One unit of work from submission until its outcome is delivered (at most once). */
export interface TaskRecord {
  readonly id: string;
  readonly code: ShippedCode;
  readonly export: string | null;
  readonly args: Uint8Array;
  readonly inline: boolean;
  readonly chunk: boolean;
  readonly timeoutMs: number | null;
  /** Higher runs first, within its share-holder and across holders. */
  readonly priority: number;
  /** Its share-holder: a client of a service, or one call of an embedded program. */
  readonly share: string;
  /** The holder's fair-share weight: it may hold `weight` times the slots of a holder of weight 1. */
  readonly weight: number;
  /** What it needs of its agent (cpus default 1) while it runs; null: one slot, pipelined (the fast path). */
  readonly resources: Resources | null;
  /** Only agents of this pool may run it; null or absent: any agent that fits. */
  readonly pool?: string | null;
  /** Re-runs left after its agent is lost. */
  lossRetriesLeft: number;
  /** Re-runs left after the function threw. */
  exceptionRetriesLeft: number;
  /** Only this agent may run it (broadcast); lost with it. */
  readonly pinned: string | null;
  /** Keep the result on the agent under this object id (a TaskRef). */
  readonly keep: string | null;
  /** The objects its arguments refer to, and where they are (set once they all exist). */
  deps: Dep[];
  /** Agents holding its arguments' values, most bytes first: run there when one has room. */
  prefer?: string[];
  /** Where it runs now. */
  link: AgentLink | null;
  /** Sent parked: held on `link` until its deps, being made there, land (pipelined-deps.ts). */
  parked?: boolean;
  /** A parked task asked back (`withdraw`): it stays on `link` until the agent answers. */
  withdrawing?: boolean;
  /** The outcome was delivered; later reports about it are ignored. */
  settled: boolean;
  /** null or absent: the engine's own (no history). */
  readonly origin?: TaskOrigin | null;
  /** When it was first sent to an agent, and the last agent it was sent to. */
  startedAt?: number | null;
  lastAgent?: string | null;
  /** How many times it was sent to an agent. */
  sends?: number;
  readonly deliver: (outcome: TaskOutcome) => void;
  /**
   * The refs inside the delivered value, each pinned once for whoever takes the value (a scope
   * adopts them as its program's handles, or releases them).
   */
  resultRefs?: readonly string[];
}

/** Delivers `task`'s outcome unless it has one already (at most once). */
export function settleTask(task: TaskRecord, outcome: TaskOutcome): void {
  if (task.settled) return;
  task.settled = true;
  task.deliver(outcome);
}

/**
 * FIFO of tasks with O(1) push, shift and unshift: a ring whose freed slots are cleared and whose
 * old array is emptied when it grows. (An array that grows by push, or is sliced, leaves its old
 * backing store pointing at the tasks queued then; in the old generation that kept them, and all
 * they hold, alive through the scavenges until the next full GC: see churn-map.ts.)
 */
export class TaskQueue {
  private ring: (TaskRecord | undefined)[] = new Array<TaskRecord | undefined>(16).fill(undefined);
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(task: TaskRecord): void {
    if (this.count === this.ring.length) this.grow(this.count + 1);
    this.ring[(this.head + this.count) & (this.ring.length - 1)] = task;
    this.count++;
  }

  /** Puts tasks back at the front, keeping their order (a lost agent's work runs next). */
  unshiftAll(tasks: readonly TaskRecord[]): void {
    if (tasks.length === 0) return;
    if (this.count + tasks.length > this.ring.length) this.grow(this.count + tasks.length);
    const mask = this.ring.length - 1;
    for (let i = tasks.length - 1; i >= 0; i--) {
      this.head = (this.head - 1) & mask;
      this.ring[this.head] = tasks[i];
    }
    this.count += tasks.length;
  }

  shift(): TaskRecord | undefined {
    if (this.count === 0) return undefined;
    const task = this.ring[this.head];
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) & (this.ring.length - 1);
    this.count--;
    return task;
  }

  remove(task: TaskRecord): boolean {
    const mask = this.ring.length - 1;
    for (let i = 0; i < this.count; i++) {
      if (this.ring[(this.head + i) & mask] !== task) continue;
      for (let j = i; j < this.count - 1; j++) this.ring[(this.head + j) & mask] = this.ring[(this.head + j + 1) & mask];
      this.ring[(this.head + this.count - 1) & mask] = undefined;
      this.count--;
      return true;
    }
    return false;
  }

  drain(): TaskRecord[] {
    const rest: TaskRecord[] = [];
    const mask = this.ring.length - 1;
    for (let i = 0; i < this.count; i++) {
      const task = this.ring[(this.head + i) & mask];
      if (task !== undefined) rest.push(task);
    }
    this.ring.fill(undefined);
    this.head = 0;
    this.count = 0;
    return rest;
  }

  /** A ring of the next power of two that holds `need`, in order from slot 0. */
  private grow(need: number): void {
    let capacity = 2 * this.ring.length;
    while (capacity < need) capacity *= 2;
    const ring = new Array<TaskRecord | undefined>(capacity).fill(undefined);
    const mask = this.ring.length - 1;
    for (let i = 0; i < this.count; i++) ring[i] = this.ring[(this.head + i) & mask];
    this.ring.fill(undefined);
    this.ring = ring;
    this.head = 0;
  }
}
