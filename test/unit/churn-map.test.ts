// The per-task containers of the hot path (churn-map.ts, slots.ts, TaskQueue in task.ts) keep the semantics
// of the Map and the FIFO they replace: lookups, insertion order, reuse of freed slots, growth
// past the first array, and a ring that wraps.
import { describe, expect, it } from 'vitest';
import { ChurnMap } from '../../coordinator/util/churn-map.js';
import { Slots } from '../../coordinator/util/slots.js';
import { TaskQueue, type TaskRecord } from '../../coordinator/engine/task.js';

describe('ChurnMap', () => {
  it('gets, sets, deletes and counts like a Map', () => {
    const m = new ChurnMap<{ n: number }>();
    expect(m.size).toBe(0);
    expect(m.get('a')).toBeUndefined();
    m.set('a', { n: 1 }).set('b', { n: 2 });
    expect(m.size).toBe(2);
    expect(m.has('a')).toBe(true);
    expect(m.get('b')).toEqual({ n: 2 });
    m.set('a', { n: 3 });
    expect(m.size).toBe(2);
    expect(m.get('a')).toEqual({ n: 3 });
    expect(m.delete('a')).toBe(true);
    expect(m.delete('a')).toBe(false);
    expect(m.has('a')).toBe(false);
    expect(m.size).toBe(1);
  });

  it('walks in insertion order, reusing freed slots, through growth, and snapshots the walk', () => {
    const m = new ChurnMap<number>();
    for (let i = 0; i < 100; i++) m.set(`k${i}`, i);
    for (let i = 0; i < 100; i += 2) m.delete(`k${i}`);
    for (let i = 100; i < 150; i++) m.set(`k${i}`, i);
    const expected = [...Array.from({ length: 50 }, (_, i) => 2 * i + 1), ...Array.from({ length: 50 }, (_, i) => 100 + i)];
    expect(m.values()).toEqual(expected);
    expect(m.keys()).toEqual(expected.map((n) => `k${n}`));
    for (const v of m.values()) m.delete(`k${v}`);
    expect(m.size).toBe(0);
    // Keys that look like indices keep their insertion order too (a plain object would sort them).
    m.set('2', 2).set('1', 1);
    expect(m.values()).toEqual([2, 1]);
    m.clear();
    expect(m.size).toBe(0);
    expect(m.values()).toEqual([]);
    m.set('x', 7);
    expect(m.get('x')).toBe(7);
  });
});

describe('Slots', () => {
  it('hands out slots, reuses freed ones, grows, and snapshots its values', () => {
    const s = new Slots<{ n: number }>();
    const taken = Array.from({ length: 40 }, (_, n) => s.add({ n }));
    expect(new Set(taken).size).toBe(40);
    expect(s.size).toBe(40);
    for (let i = 0; i < 40; i += 2) s.remove(taken[i]!);
    expect(s.size).toBe(20);
    expect(s.at(taken[0]!)).toBeUndefined();
    expect(s.at(taken[1]!)).toEqual({ n: 1 });
    const again = s.add({ n: 99 });
    expect(taken.filter((_, i) => i % 2 === 0)).toContain(again);
    s.put(again, { n: 100 });
    expect(s.at(again)).toEqual({ n: 100 });
    const values = s.values();
    for (const v of values) if (v.n % 3 === 0) s.remove(taken[v.n] ?? again);
    expect(values).toHaveLength(21);
    expect(s.size).toBe(21 - values.filter((v) => v.n % 3 === 0).length);
    s.clear();
    expect(s.size).toBe(0);
    expect(s.values()).toEqual([]);
  });
});

describe('TaskQueue', () => {
  const task = (id: string): TaskRecord => ({ id }) as TaskRecord;
  const ids = (q: TaskQueue): string[] => q.drain().map((t) => t.id);

  it('is a FIFO across wrap-around and growth', () => {
    const q = new TaskQueue();
    const out: string[] = [];
    let next = 0;
    // Push and shift in uneven steps so the ring wraps several times while it grows.
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 7 + round; i++) q.push(task(`t${next++}`));
      for (let i = 0; i < 5; i++) out.push(q.shift()!.id);
    }
    while (q.length > 0) out.push(q.shift()!.id);
    expect(out).toEqual(Array.from({ length: next }, (_, i) => `t${i}`));
    expect(q.shift()).toBeUndefined();
  });

  it('puts tasks back at the front in order, removes one, and drains', () => {
    const q = new TaskQueue();
    for (let i = 0; i < 14; i++) q.push(task(`t${i}`));
    for (let i = 0; i < 10; i++) q.shift();
    q.unshiftAll([task('a'), task('b')]);
    expect(q.length).toBe(6);
    // More than fits: the ring grows while keeping the order.
    q.unshiftAll(Array.from({ length: 20 }, (_, i) => task(`u${i}`)));
    expect(q.length).toBe(26);
    expect(q.remove(task('nope'))).toBe(false);
    const b = q.drain().find((t) => t.id === 'b')!;
    q.unshiftAll([task('x'), b, task('y')]);
    expect(q.remove(b)).toBe(true);
    expect(ids(q)).toEqual(['x', 'y']);
    expect(q.length).toBe(0);
  });
});
