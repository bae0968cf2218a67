// The packed batches between an agent's main thread and a worker thread (agent/thread-batch.ts):
// every run and result comes out as it went in, in order, whichever way it travelled (packed, or
// whole beside the packed ones); one buffer is moved per batch, plus the large values' own; a
// small value viewing a shared buffer is copied, never moved.
import { describe, expect, it } from 'vitest';
import { MIN_PACKED, PACKED_MAX_BYTES, packRuns, ResultBatch, unpackResults, unpackRuns } from '../../agent/thread-batch.js';
import type { RunInThread, ThreadResult } from '../../agent/thread-messages.js';

const code = { hash: 'h1', kind: 'function' as const, source: '(x) => x' };
const base = (id: string, args: Uint8Array): RunInThread => ({ id, hash: 'h1', code: null, export: null, args, chunk: false, deps: new Map(), express: false });

describe('runs to a thread', () => {
  it('come out in order with every field, the common ones packed and the rest whole', () => {
    const frame = Buffer.from(Array.from({ length: 64 }, (_, i) => i));
    const large = new Uint8Array(PACKED_MAX_BYTES + 1).fill(7);
    const runs: RunInThread[] = [
      { ...base('first', frame.subarray(0, 3)), code },
      base('plain', frame.subarray(3, 9)),
      { ...base('ünïcødé-✓', frame.subarray(9, 10)), export: 'fib', chunk: true },
      { ...base('express', new Uint8Array(0)), express: true },
      { ...base('deps', frame.subarray(10, 12)), deps: new Map([['o1', new Uint8Array([1, 2])]]) },
      base('large', large),
      { ...base('other-code', frame.subarray(12, 13)), hash: 'h2', export: 'named' },
    ];
    const transfer: ArrayBuffer[] = [];
    const packed = packRuns(runs, transfer);
    expect(packed.packed).not.toBeNull();
    expect(transfer).toEqual([packed.packed?.buffer]);
    expect(packed.whole.map((r) => r.id)).toEqual(['first', 'deps', 'large']);
    // What the thread receives: a structured clone of the message.
    const out = unpackRuns(structuredClone(packed, { transfer }));
    expect(out.map((r) => ({ ...r, args: [...r.args], deps: [...r.deps] }))).toEqual(runs.map((r) => ({ ...r, args: [...r.args], deps: [...r.deps] })));
  });

  it('a batch of fewer than MIN_PACKED runs crosses as the runs themselves, no packed buffer', () => {
    const runs = Array.from({ length: MIN_PACKED - 1 }, (_, i) => base(`r${i}`, new Uint8Array([i])));
    const transfer: ArrayBuffer[] = [];
    const packed = packRuns(runs, transfer);
    expect(packed.packed).toBeNull();
    expect(transfer).toEqual([]);
    expect(unpackRuns(structuredClone(packed)).map((r) => ({ ...r, args: [...r.args] }))).toEqual(runs.map((r) => ({ ...r, args: [...r.args] })));
  });

  it('an empty batch is empty', () => {
    expect(unpackRuns(packRuns([], []))).toEqual([]);
  });
});

describe('results from a thread', () => {
  it('come out in order, small values packed, the rest whole with their values (or copies) moved', () => {
    const batch = new ResultBatch();
    // A view into a buffer shared with other bytes, as msgpackr's pack returns.
    const shared = Buffer.alloc(1024, 5);
    const large = new Uint8Array(PACKED_MAX_BYTES + 10).fill(3);
    const results: ThreadResult[] = [
      { type: 'done', id: 't1', value: shared.subarray(8, 12), refs: [], runMs: 0.25 },
      { type: 'failed', id: 't2', error: { name: 'Error', message: 'boom' } },
      { type: 'done', id: 't3', value: shared.subarray(16, 20), refs: ['o1'], runMs: 1 },
      { type: 'done', id: 't4', value: large, refs: [], runMs: 2 },
      { type: 'done', id: 'é', value: new Uint8Array(0), refs: [], runMs: 0 },
    ];
    const plain = (r: ThreadResult): unknown => (r.type === 'done' ? { ...r, value: [...r.value] } : r);
    const expected = results.map(plain); // before the large value's buffer is moved away
    for (const r of results) batch.add(r);
    expect(batch.count).toBe(5);
    const { results: packed, transfer } = batch.take();
    expect(batch.count).toBe(0);
    // The packed buffer, the copy of t3's value and the large value's are moved; the shared buffer never is.
    expect(transfer).toHaveLength(3);
    expect(transfer).toContain(large.buffer);
    expect(transfer).not.toContain(shared.buffer);
    const out: ThreadResult[] = [];
    unpackResults(structuredClone(packed, { transfer }), (r) => out.push(r));
    expect(out.map(plain)).toEqual(expected);
    expect(large.byteLength).toBe(0); // moved
    expect(shared.byteLength).toBe(1024);
  });

  it('a batch of fewer than MIN_PACKED results crosses whole, small values copied (never the shared buffer moved)', () => {
    const batch = new ResultBatch();
    const shared = Buffer.alloc(64, 9);
    const results: ThreadResult[] = [
      { type: 'done', id: 's1', value: shared.subarray(0, 4), refs: [], runMs: 0.5 },
      { type: 'failed', id: 's2', error: { name: 'Error', message: 'no' } },
    ].slice(0, MIN_PACKED - 1) as ThreadResult[];
    const plain = (r: ThreadResult): unknown => (r.type === 'done' ? { ...r, value: [...r.value] } : r);
    const expected = results.map(plain);
    for (const r of results) batch.add(r);
    const { results: sent, transfer } = batch.take();
    expect(sent.packed).toBeNull();
    expect(transfer).not.toContain(shared.buffer);
    const out: ThreadResult[] = [];
    unpackResults(structuredClone(sent, { transfer }), (r) => out.push(r));
    expect(out.map(plain)).toEqual(expected);
    expect(shared.byteLength).toBe(64);
    expect(batch.count).toBe(0);
  });
});
