// TaskIndex (coordinator/util/task-index.ts), a link's in-flight tasks by engine id: the semantics
// of the Map it replaces, whether an id lands in the ring, collides there, or is not an engine id.
import { describe, expect, it } from 'vitest';
import { TaskIndex } from '../../coordinator/util/task-index.js';

/** A seeded generator, so a failure repeats. */
function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('TaskIndex', () => {
  it('gets, sets, takes, deletes and counts like a Map', () => {
    const m = new TaskIndex<{ n: number }>();
    expect(m.size).toBe(0);
    expect(m.get('ab.1')).toBeUndefined();
    m.set('ab.1', { n: 1 }).set('t2', { n: 2 });
    expect(m.size).toBe(2);
    expect(m.has('ab.1')).toBe(true);
    expect(m.has('t2')).toBe(true);
    expect(m.get('t2')).toEqual({ n: 2 });
    m.set('ab.1', { n: 3 });
    expect(m.size).toBe(2);
    expect(m.get('ab.1')).toEqual({ n: 3 });
    expect(m.take('ab.1')).toEqual({ n: 3 });
    expect(m.take('ab.1')).toBeUndefined();
    expect(m.delete('t2')).toBe(true);
    expect(m.delete('t2')).toBe(false);
    expect(m.size).toBe(0);
  });

  it('keeps ids apart whose counters share a ring slot, and ids of other forms', () => {
    const m = new TaskIndex<number>();
    // 64 and 2^20 apart: the same slot of a ring of 64 (or of any size up to 2^20).
    // Decimal counters (`t64`) share slots with base 36 ones; ids of neither form ('64', 't', 'a1b') spill.
    const ids = ['p.0', `p.${(64).toString(36)}`, `p.${(2 ** 20).toString(36)}`, `q.${(64).toString(36)}`, 'x', '.', 'p.', 'p.A1', `p.${(2 ** 40).toString(36)}`, 't64', 'u64', 't0', '64', 't', 'a1b', `t${2 ** 40}`];
    ids.forEach((id, i) => m.set(id, i));
    expect(m.size).toBe(ids.length);
    ids.forEach((id, i) => expect(m.get(id), id).toBe(i));
    expect(m.keys()).toEqual(ids);
    expect(m.take(ids[0]!)).toBe(0);
    // Its slot is free now; a later set of a spilled id must not make a second entry.
    m.set(ids[1]!, 10);
    expect(m.get(ids[1]!)).toBe(10);
    expect(m.size).toBe(ids.length - 1);
    expect(m.values()).toEqual([10, ...ids.map((_, i) => i).slice(2)]);
  });

  it('matches a Map through random churn and growth, in insertion order', () => {
    const random = seeded(16);
    const m = new TaskIndex<number>();
    const ref = new Map<string, number>();
    let counter = 0;
    const live: string[] = [];
    for (let step = 0; step < 50_000; step++) {
      const r = random();
      if (r < 0.5 || live.length === 0) {
        // Mostly recent counters, now and then a far one or another link's id form.
        const id = r < 0.02 ? `t${step}` : `k3x.${(r < 0.04 ? counter + 4096 * Math.floor(random() * 100) : ++counter).toString(36)}`;
        if (!ref.has(id)) live.push(id);
        ref.set(id, step);
        m.set(id, step);
      } else {
        const at = Math.floor(random() * live.length);
        const id = live[at]!;
        live.splice(at, 1);
        expect(m.take(id)).toBe(ref.get(id));
        ref.delete(id);
      }
      expect(m.size).toBe(ref.size);
      if (step % 5_000 === 0) {
        expect(m.keys()).toEqual([...ref.keys()]);
        expect(m.values()).toEqual([...ref.values()]);
      }
    }
    for (const [id, v] of ref) expect(m.get(id)).toBe(v);
    m.clear();
    expect(m.size).toBe(0);
    expect(m.values()).toEqual([]);
  });
});
