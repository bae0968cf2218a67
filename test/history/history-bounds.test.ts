// The engine's task history stays within its bounds (entries and bytes) however many tasks
// settle: fed a million entries directly, it holds the newest, evicts the oldest, and counts both.
import { describe, expect, it } from 'vitest';
import { TaskHistory } from '../../coordinator/engine/history.js';
import type { TaskHistoryEntry } from '../../protocol/rows.js';

const entry = (i: number, failed = false): TaskHistoryEntry => ({
  taskId: `t${i}`,
  callId: `m${i >> 10}`,
  label: 'square',
  client: 'client c1 (bench.mjs)',
  agentId: 'a1',
  submittedAt: i,
  startedAt: i,
  endedAt: i + 1,
  outcome: failed ? 'failed' : 'done',
  error: failed ? { code: 'REMOTE_ERROR', message: 'RangeError: no'.padEnd(900, '.'), stack: 'at f (x.js:1:1)\n'.repeat(250) } : null,
});

describe('TaskHistory', () => {
  it('holds at most maxEntries of 1,000,000 tasks: the newest, newest first', () => {
    const h = new TaskHistory({ maxEntries: 10_000, maxBytes: 1 << 30 });
    for (let i = 0; i < 1_000_000; i++) h.add(entry(i));
    expect(h.size).toBe(10_000);
    expect(h.total).toBe(1_000_000);
    expect(h.evicted).toBe(990_000);
    const { entries } = h.query({ limit: 100_000, outcome: null, callId: null });
    expect(entries).toHaveLength(10_000);
    expect(entries[0]!.taskId).toBe('t999999');
    expect(entries.at(-1)!.taskId).toBe('t990000');
  });

  it('holds at most maxBytes of 1,000,000 tasks with large errors', () => {
    const maxBytes = 4 * 1024 * 1024;
    const h = new TaskHistory({ maxEntries: 1_000_000, maxBytes });
    let peak = 0;
    for (let i = 0; i < 1_000_000; i++) {
      h.add(entry(i, i % 3 === 0));
      if (h.bytes > peak) peak = h.bytes;
    }
    expect(peak).toBeLessThanOrEqual(maxBytes);
    expect(h.size).toBeGreaterThan(100);
    expect(h.size).toBeLessThan(100_000);
    expect(h.size + h.evicted).toBe(1_000_000);
    const newest = h.query({ limit: 1, outcome: null, callId: null }).entries[0];
    expect(newest?.taskId).toBe('t999999');
  });

  it('filters by outcome and call; an entry larger than the byte bound is dropped, not kept', () => {
    const h = new TaskHistory({ maxEntries: 100, maxBytes: 6_000 });
    for (let i = 0; i < 10; i++) h.add(entry(i));
    h.add(entry(10, true)); // about 10 kB: over the bound on its own
    expect(h.size).toBe(10);
    expect(h.evicted).toBe(1);
    expect(h.query({ limit: 5, outcome: 'done', callId: null }).entries.map((e) => e.taskId)).toEqual(['t9', 't8', 't7', 't6', 't5']);
    expect(h.query({ limit: 5, outcome: 'failed', callId: null }).entries).toEqual([]);
    expect(h.query({ limit: 100, outcome: null, callId: 'm1' }).entries).toEqual([]);
  });

  it('keeps the newest in order while evictions by bytes and by count interleave (the ring wraps and grows)', () => {
    const h = new TaskHistory({ maxEntries: 50, maxBytes: 30_000 });
    const kept: TaskHistoryEntry[] = [];
    for (let i = 0; i < 500; i++) {
      const e = entry(i, i % 7 === 0 && i % 2 === 0);
      h.add(e);
      kept.push(e);
    }
    const { entries } = h.query({ limit: 1_000, outcome: null, callId: null });
    expect(entries.length).toBe(h.size);
    expect(entries).toEqual(kept.slice(-entries.length).reverse());
    expect(h.query({ limit: 1_000, outcome: 'failed', callId: null }).entries.every((e) => e.error?.code === 'REMOTE_ERROR')).toBe(true);
  });

  it('keeps nothing with maxEntries 0', () => {
    const h = new TaskHistory({ maxEntries: 0, maxBytes: 1 << 20 });
    h.add(entry(1));
    expect(h.size).toBe(0);
    expect(h.query({ limit: 10, outcome: null, callId: null }).entries).toEqual([]);
  });
});
