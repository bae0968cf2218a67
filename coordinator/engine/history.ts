import { RemoteError, type ClustrixError } from '../errors/errors.js';
import type { ErrorSummary, HistoryQuery, TaskHistory as TaskHistoryRows, TaskHistoryEntry } from '../../protocol/rows.js';

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

/**
 * The engine's record of recent settled tasks: a ring of at most `maxEntries` entries holding at
 * most about `maxBytes` (strings counted at two bytes a character), oldest evicted first. Adding is
 * O(1) amortised, so a million tiny tasks cost the record nothing but its bound.
 */
export class TaskHistory {
  private ring: (TaskHistoryEntry | undefined)[] = [];
  private sizes: number[] = [];
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
    this.added++;
    const bytes = entryBytes(entry);
    if (bytes > this.bounds.maxBytes || this.bounds.maxEntries === 0) {
      this.dropped++;
      return;
    }
    while (this.count > 0 && (this.count >= this.bounds.maxEntries || this.bytesHeld + bytes > this.bounds.maxBytes)) this.evictOldest();
    const cap = this.bounds.maxEntries;
    // The ring grows to its bound lazily: a small history costs little memory.
    if (this.ring.length < cap && this.head === 0) {
      this.ring.push(entry);
      this.sizes.push(bytes);
    } else {
      const slot = (this.head + this.count) % this.ring.length;
      this.ring[slot] = entry;
      this.sizes[slot] = bytes;
    }
    this.count++;
    this.bytesHeld += bytes;
  }

  /** Newest first, filtered. */
  query(q: HistoryQuery): TaskHistoryRows {
    const entries: TaskHistoryEntry[] = [];
    for (let i = this.count - 1; i >= 0 && entries.length < q.limit; i--) {
      const e = this.ring[(this.head + i) % this.ring.length];
      if (!e) continue;
      if (q.outcome !== null && e.outcome !== q.outcome) continue;
      if (q.callId !== null && e.callId !== q.callId) continue;
      entries.push(e);
    }
    return { entries, total: this.added, evicted: this.dropped };
  }

  private evictOldest(): void {
    const len = this.ring.length;
    this.bytesHeld -= this.sizes[this.head] ?? 0;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % len;
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

function entryBytes(e: TaskHistoryEntry): number {
  let chars = e.taskId.length + e.callId.length + e.label.length + e.client.length + (e.agentId?.length ?? 0);
  if (e.error) chars += e.error.code.length + e.error.message.length + (e.error.stack?.length ?? 0);
  return ENTRY_OVERHEAD_BYTES + 2 * chars;
}
