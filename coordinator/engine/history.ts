import { RemoteError, type ClustrixError } from '../errors/errors.js';
import type { ErrorSummary, HistoryQuery, TaskHistory as TaskHistoryRows, TaskHistoryEntry, TaskOutcomeKind } from '../../protocol/rows.js';

/** Bounds of the record: whichever is reached first evicts the oldest entries. */
export interface HistoryBounds {
  maxEntries: number;
  maxBytes: number;
}

/** Longest error message and remote stack kept per entry, characters. */
export const MAX_ERROR_MESSAGE = 1_000;
export const MAX_ERROR_STACK = 4_000;

/** An entry's bookkeeping beyond its strings (object, numbers, slots), a generous estimate. */
const ENTRY_OVERHEAD_BYTES = 160;

const OUTCOMES: readonly TaskOutcomeKind[] = ['done', 'failed', 'cancelled'];

/**
 * The engine's record of recent settled tasks: a ring of at most `maxEntries` entries holding at
 * most about `maxBytes` (strings counted at two bytes a character), oldest evicted first. Adding is
 * O(1) amortised, so a million tiny tasks cost the record nothing but its bound. The ring is kept
 * as columns (strings, numbers in typed arrays), not as the entry objects: an entry added is not
 * held, so it dies young instead of being copied and promoted by the GC (a measurable share of a
 * 100,000-task map); `query` builds the entries it returns.
 */
export class TaskHistory {
  private taskIds: string[] = [];
  private callIds: string[] = [];
  private labels: string[] = [];
  private clients: string[] = [];
  private agentIds: (string | null)[] = [];
  private errors: (ErrorSummary | null)[] = [];
  /** submittedAt, startedAt (NaN: null) and endedAt of each slot, three per slot. */
  private times = new Float64Array(0);
  private outcomes = new Uint8Array(0);
  private sizes = new Float64Array(0);
  /** Slots in use so far (the ring grows to its bound lazily: a small history costs little memory). */
  private slots = 0;
  private head = 0;
  private count = 0;
  private bytesHeld = 0;
  private added = 0;
  private dropped = 0;

  constructor(readonly bounds: HistoryBounds) {}

  get size(): number {
    return this.count;
  }

  /** Estimated bytes held now. */
  get bytes(): number {
    return this.bytesHeld;
  }

  /** Entries added since the start, evicted ones included. */
  get total(): number {
    return this.added;
  }

  get evicted(): number {
    return this.dropped;
  }

  add(entry: TaskHistoryEntry): void {
    const { taskId, callId, label, client, agentId, submittedAt, startedAt, endedAt, outcome, error } = entry;
    this.addTask(taskId, callId, label, client, agentId, submittedAt, startedAt, endedAt, outcome, error);
  }

  /** {@link add} of one task's fields: no entry object per task (the work tracker's form). */
  addTask(
    taskId: string, callId: string, label: string, client: string, agentId: string | null,
    submittedAt: number, startedAt: number | null, endedAt: number, outcome: TaskOutcomeKind, error: ErrorSummary | null,
  ): void {
    this.added++;
    let chars = taskId.length + callId.length + label.length + client.length + (agentId?.length ?? 0);
    if (error) chars += error.code.length + error.message.length + (error.stack?.length ?? 0);
    const bytes = ENTRY_OVERHEAD_BYTES + 2 * chars;
    if (bytes > this.bounds.maxBytes || this.bounds.maxEntries === 0) {
      this.dropped++;
      return;
    }
    while (this.count > 0 && (this.count >= this.bounds.maxEntries || this.bytesHeld + bytes > this.bounds.maxBytes)) this.evictOldest();
    let slot: number;
    if (this.count === this.slots) {
      // Every slot is in use (and fewer than maxEntries, or one would have been evicted): one more.
      if (this.head !== 0) this.unwrap();
      slot = this.slots++;
      if (slot >= this.outcomes.length) this.grow();
    } else {
      slot = this.head + this.count;
      if (slot >= this.slots) slot -= this.slots;
    }
    this.taskIds[slot] = taskId;
    this.callIds[slot] = callId;
    this.labels[slot] = label;
    this.clients[slot] = client;
    this.agentIds[slot] = agentId;
    this.errors[slot] = error;
    this.times[3 * slot] = submittedAt;
    this.times[3 * slot + 1] = startedAt ?? NaN;
    this.times[3 * slot + 2] = endedAt;
    this.outcomes[slot] = OUTCOMES.indexOf(outcome);
    this.sizes[slot] = bytes;
    this.count++;
    this.bytesHeld += bytes;
  }

  /** Newest first, filtered. */
  query(q: HistoryQuery): TaskHistoryRows {
    const entries: TaskHistoryEntry[] = [];
    for (let i = this.count - 1; i >= 0 && entries.length < q.limit; i--) {
      const slot = (this.head + i) % this.slots;
      const outcome = OUTCOMES[this.outcomes[slot]!]!;
      if (q.outcome !== null && outcome !== q.outcome) continue;
      if (q.callId !== null && this.callIds[slot] !== q.callId) continue;
      const startedAt = this.times[3 * slot + 1]!;
      entries.push({
        taskId: this.taskIds[slot]!,
        callId: this.callIds[slot]!,
        label: this.labels[slot]!,
        client: this.clients[slot]!,
        agentId: this.agentIds[slot] ?? null,
        submittedAt: this.times[3 * slot]!,
        startedAt: Number.isNaN(startedAt) ? null : startedAt,
        endedAt: this.times[3 * slot + 2]!,
        outcome,
        error: this.errors[slot] ?? null,
      });
    }
    return { entries, total: this.added, evicted: this.dropped };
  }

  /** Room for more slots (doubling, up to the bound); only while the ring has not wrapped. */
  private grow(): void {
    const capacity = Math.min(this.bounds.maxEntries, Math.max(64, 2 * this.outcomes.length));
    const times = new Float64Array(3 * capacity);
    times.set(this.times);
    this.times = times;
    const outcomes = new Uint8Array(capacity);
    outcomes.set(this.outcomes);
    this.outcomes = outcomes;
    const sizes = new Float64Array(capacity);
    sizes.set(this.sizes);
    this.sizes = sizes;
  }

  /** Moves the oldest entry to slot 0, so that the ring can grow at its end (rare: after evictions by bytes). */
  private unwrap(): void {
    const h = this.head;
    const n = this.slots;
    const turn = <T>(a: T[]): T[] => [...a.slice(h, n), ...a.slice(0, h)];
    this.taskIds = turn(this.taskIds);
    this.callIds = turn(this.callIds);
    this.labels = turn(this.labels);
    this.clients = turn(this.clients);
    this.agentIds = turn(this.agentIds);
    this.errors = turn(this.errors);
    const times = new Float64Array(this.times.length);
    times.set(this.times.subarray(3 * h, 3 * n));
    times.set(this.times.subarray(0, 3 * h), 3 * (n - h));
    this.times = times;
    const outcomes = new Uint8Array(this.outcomes.length);
    outcomes.set(this.outcomes.subarray(h, n));
    outcomes.set(this.outcomes.subarray(0, h), n - h);
    this.outcomes = outcomes;
    const sizes = new Float64Array(this.sizes.length);
    sizes.set(this.sizes.subarray(h, n));
    sizes.set(this.sizes.subarray(0, h), n - h);
    this.sizes = sizes;
    this.head = 0;
  }

  private evictOldest(): void {
    const slot = this.head;
    this.bytesHeld -= this.sizes[slot] ?? 0;
    // Its strings and error go now; the numbers are overwritten when the slot is reused.
    this.errors[slot] = null;
    this.head = (slot + 1) % this.slots;
    this.count--;
    this.dropped++;
    if (this.count === 0) this.head = 0;
  }
}

/** The error of a failed task as the record keeps it. */
export function summarizeError(error: ClustrixError): ErrorSummary {
  const stack = error instanceof RemoteError ? (error.remoteStack ?? null) : null;
  return { code: error.code, message: error.message.slice(0, MAX_ERROR_MESSAGE), stack: stack === null ? null : stack.slice(0, MAX_ERROR_STACK) };
}
