import type { CallRow, RecentError } from '../../protocol/dashboard-messages.js';
import type { TaskOutcomeKind } from '../../protocol/rows.js';
import { TaskHistory, summarizeError, type HistoryBounds } from './history.js';
import type { TaskOutcome, TaskRecord } from './task.js';

/** Upper bounds of the task latency histogram, seconds (submission to outcome). */
export const LATENCY_BUCKETS_S = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300] as const;

/** Calls kept after their last task settled, for the dashboard. */
const ENDED_CALLS_KEPT = 100;
/** Failures kept with their remote stacks, for the dashboard. */
const RECENT_ERRORS_KEPT = 50;

interface CallState {
  readonly client: string;
  readonly callId: string;
  readonly label: string;
  readonly startedAt: number;
  lastAt: number;
  /** Tasks not settled yet (a count: which of them run is read off the links, see callRows). */
  live: number;
  done: number;
  failed: number;
  cancelled: number;
}

/** A latency histogram in Prometheus' shape: cumulative counts per bucket, a sum and a count. */
export class LatencyHistogram {
  /** Not cumulative here: one count per bucket, the last for +Inf. */
  readonly counts = new Array<number>(LATENCY_BUCKETS_S.length + 1).fill(0);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS_S.length && seconds > LATENCY_BUCKETS_S[i]!) i++;
    this.counts[i]!++;
    this.sum += seconds;
    this.count++;
  }
}

/**
 * What the engine knows about work beyond the scheduler's queue: every task's call (live counts
 * per client and call), a bounded history of settled tasks, outcome counters and latencies for
 * /metrics, and the recent failures with their remote stacks. Fed by the submitter.
 */
export class WorkTracker {
  readonly history: TaskHistory;
  readonly outcomes: Record<TaskOutcomeKind, number> = { done: 0, failed: 0, cancelled: 0 };
  readonly latency = new LatencyHistogram();
  private readonly calls = new Map<string, CallState>();
  /** The call {@link callOf} found last (always one of `calls`). */
  private lastCall: CallState | null = null;
  private endedCalls = 0;
  private readonly errors: RecentError[] = [];

  constructor(bounds: HistoryBounds) {
    this.history = new TaskHistory(bounds);
  }

  submitted(task: TaskRecord): void {
    const o = task.origin;
    if (!o) return;
    let call = this.callOf(o.client, o.callId);
    if (!call) {
      call = { client: o.client, callId: o.callId, label: o.label, startedAt: o.submittedAt, lastAt: o.submittedAt, live: 0, done: 0, failed: 0, cancelled: 0 };
      this.calls.set(callKey(o.client, o.callId), call);
      this.lastCall = call;
    } else if (call.live === 0) {
      this.endedCalls--;
    }
    call.live++;
  }

  settled(task: TaskRecord, outcome: TaskOutcome): void {
    const o = task.origin;
    if (!o) return;
    const now = Date.now();
    const kind: TaskOutcomeKind = outcome.ok ? 'done' : outcome.error.code === 'CANCELLED' ? 'cancelled' : 'failed';
    this.outcomes[kind]++;
    this.latency.observe((now - o.submittedAt) / 1000);
    const error = outcome.ok ? null : summarizeError(outcome.error);
    const agentId = outcome.ok ? outcome.agentId : (task.lastAgent ?? null);
    this.history.addTask(o.taskId, o.callId, o.label, o.client, agentId, o.submittedAt, task.startedAt ?? null, now, kind, error);
    if (error && kind === 'failed') {
      this.errors.push({ ...error, client: o.client, callId: o.callId, label: o.label, taskId: o.taskId, agentId, at: now });
      if (this.errors.length > RECENT_ERRORS_KEPT) this.errors.shift();
    }
    const call = this.callOf(o.client, o.callId);
    if (!call || call.live === 0) return;
    call.live--;
    call[kind]++;
    call.lastAt = now;
    if (call.live === 0) this.callEnded();
  }

  /**
   * Every live call and the most recent ended ones, newest first. `onAgents`: the tasks on agents
   * now (the links' in-flight ones), which say how many of each call's live tasks run. (A set of
   * each call's live tasks, kept per task, was a measurable share of a trivial map.)
   */
  callRows(onAgents: Iterable<TaskRecord>): CallRow[] {
    const running = new Map<CallState, number>();
    for (const t of onAgents) {
      const o = t.origin;
      if (!o || t.settled) continue;
      const call = this.callOf(o.client, o.callId);
      if (call) running.set(call, (running.get(call) ?? 0) + 1);
    }
    const rows: CallRow[] = [];
    for (const c of this.calls.values()) {
      const r = Math.min(running.get(c) ?? 0, c.live);
      rows.push({
        client: c.client, callId: c.callId, label: c.label, startedAt: c.startedAt, lastAt: c.lastAt,
        queued: c.live - r, running: r, done: c.done, failed: c.failed, cancelled: c.cancelled,
      });
    }
    return rows.reverse();
  }

  recentErrors(): RecentError[] {
    return [...this.errors].reverse();
  }

  /**
   * The call's state: the last one looked up when it is the same (a map's tasks come in a row, and
   * building and hashing a key per task was a measurable share of a trivial map), else by key.
   */
  private callOf(client: string, callId: string): CallState | undefined {
    const last = this.lastCall;
    if (last !== null && last.callId === callId && last.client === client) return last;
    const call = this.calls.get(callKey(client, callId));
    if (call) this.lastCall = call;
    return call;
  }

  private callEnded(): void {
    this.endedCalls++;
    if (this.endedCalls <= ENDED_CALLS_KEPT) return;
    for (const [key, c] of this.calls) {
      if (c.live > 0) continue;
      this.calls.delete(key);
      if (c === this.lastCall) this.lastCall = null;
      if (--this.endedCalls <= ENDED_CALLS_KEPT) return;
    }
  }
}

function callKey(client: string, callId: string): string {
  return `${client}\u0000${callId}`;
}
