// Copies of an agent's kept values for a worker thread (agent/thread-transfer.ts): a copy made for
// one task alone is moved into the thread as it is, once, when that task starts there; the kept
// bytes themselves are always copied; a copy made in slices is exact, distinct, and lets the event
// loop run while it is made (a peer fetching the same value is served meanwhile).
import { describe, expect, it } from 'vitest';
import { copyInSlices, depsFor, forOneTask } from '../../agent/thread-transfer.js';

const SIZE = 10 * 1024 * 1024 + 13; // three slices

function bytes(): Uint8Array {
  const b = Buffer.allocUnsafeSlow(SIZE);
  for (let i = 0; i < SIZE; i += 4096) b.writeUInt32LE(i, i);
  b[SIZE - 1] = 0x5a;
  return b;
}

describe('copies for a thread', () => {
  it('kept bytes are copied into a buffer of their own, which is moved', () => {
    const kept = bytes();
    const transfer: ArrayBuffer[] = [];
    const out = depsFor(new Map([['o1', kept]]), transfer, true).get('o1')!;
    expect(out).not.toBe(kept);
    expect(transfer).toHaveLength(1);
    expect(transfer[0]).toBe(out.buffer);
    expect(Buffer.compare(out, kept)).toBe(0);
  });

  it('a copy for one task is moved as it is when the task starts, once; a task queued behind copies it', () => {
    const own = forOneTask(bytes());
    const queued: ArrayBuffer[] = [];
    const copied = depsFor(new Map([['o1', own]]), queued, false).get('o1')!;
    expect(copied).not.toBe(own);
    const starting: ArrayBuffer[] = [];
    expect(depsFor(new Map([['o1', own]]), starting, true).get('o1')).toBe(own);
    expect(starting).toHaveLength(1);
    expect(starting[0]).toBe(own.buffer);
    // moved once: a later use copies
    const again: ArrayBuffer[] = [];
    expect(depsFor(new Map([['o1', own]]), again, true).get('o1')).not.toBe(own);
  });

  it('a copy in slices is exact and distinct, and the event loop runs while it is made', async () => {
    const kept = bytes();
    let ran = false;
    const copying = copyInSlices(kept);
    setImmediate(() => (ran = true));
    const copy = await copying;
    expect(ran).toBe(true);
    expect(copy.buffer).not.toBe(kept.buffer);
    expect(copy.byteLength).toBe(SIZE);
    expect(Buffer.compare(copy, kept)).toBe(0);
  });
});
