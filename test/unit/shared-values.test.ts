// Values an agent keeps are packed into shared memory (protocol/values.ts packSharedValue), so a
// later task's thread copies them out itself (agent/objects/task-refs.ts ownDeps) and the agent's
// main thread does not; the store's bytes must never change with what a task does to its copy.
// Agents also start with glibc malloc settings that keep large blocks mapped (backends.ts agentEnv).
import { describe, expect, it } from 'vitest';
import { isShared, packSharedValue, packValue, SHARED_MIN_BYTES, unpackValue } from '../../protocol/values.js';
import { ownDeps, unpackArgs } from '../../agent/objects/task-refs.js';
import { depsFor } from '../../agent/thread-transfer.js';
import { agentEnv } from '../../coordinator/backends/backends.js';
import type { ResolvedPoolOptions } from '../../coordinator/config/options.js';

const LEN = (4 * SHARED_MIN_BYTES) / 8;

function ramp(n: number): Float64Array {
  return new Float64Array(n).map((_, i) => i * 0.5);
}

describe('packSharedValue', () => {
  it('packs a large typed array straight into shared memory, read back equal', () => {
    const bytes = packSharedValue(ramp(LEN));
    expect(isShared(bytes)).toBe(true);
    // sized from the array: no room wasted beyond the slack
    expect(bytes.buffer.byteLength - bytes.byteLength).toBeLessThanOrEqual(16 * 1024);
    expect(unpackValue(bytes)).toEqual(ramp(LEN));
  });

  it('packs typed arrays inside a list or an object into shared memory', () => {
    const value = { name: 'x', parts: [1, 2], a: ramp(LEN), b: new Uint8Array(SHARED_MIN_BYTES).fill(7) };
    const bytes = packSharedValue(value);
    expect(isShared(bytes)).toBe(true);
    expect(unpackValue(bytes)).toEqual(value);
    const list = [ramp(LEN), 'tail'];
    expect(unpackValue(packSharedValue(list))).toEqual(list);
  });

  it('copies into shared memory when the size guess falls short (large data deeper down, a long list)', () => {
    const value = { deep: { deeper: ramp(LEN) } };
    const bytes = packSharedValue(value);
    expect(isShared(bytes)).toBe(true);
    expect(unpackValue(bytes)).toEqual(value);
    const list = Array.from({ length: 20_000 }, (_, i) => i * 0.5);
    const listBytes = packSharedValue(list);
    expect(listBytes.byteLength).toBeGreaterThanOrEqual(SHARED_MIN_BYTES);
    expect(isShared(listBytes)).toBe(true);
    expect(unpackValue(listBytes)).toEqual(list);
  });

  it('packs small values as packValue does (own memory, transferable)', () => {
    const bytes = packSharedValue({ a: 1, b: new Float64Array(10) });
    expect(isShared(bytes)).toBe(false);
    expect(Buffer.from(bytes).equals(Buffer.from(packValue({ a: 1, b: new Float64Array(10) })))).toBe(true);
  });

  it('leaves the packer writing into its own memory afterwards', () => {
    packSharedValue(ramp(LEN));
    expect(isShared(packValue(ramp(LEN)))).toBe(false);
    expect(isShared(packValue('small'))).toBe(false);
  });
});

describe('shared store bytes in a task thread', () => {
  it('go to the thread as they are (no copy on the sending side) and are copied there', () => {
    const stored = packSharedValue(ramp(LEN));
    const transfer: ArrayBuffer[] = [];
    const sent = depsFor(new Map([['o1', stored]]), transfer);
    expect(sent.get('o1')).toBe(stored);
    expect(transfer).toHaveLength(0);
    const own = ownDeps(sent);
    const copy = own.get('o1')!;
    expect(isShared(copy)).toBe(false);
    expect(Buffer.from(copy).equals(Buffer.from(stored))).toBe(true);
  });

  it('a task changing its argument leaves the stored bytes as they were', () => {
    const stored = packSharedValue(ramp(LEN));
    const before = Buffer.from(stored);
    const own = ownDeps(new Map([['o1', stored]]));
    const arg = unpackArgs(own.get('o1')!, own, true) as Float64Array;
    arg.fill(-1);
    expect(Buffer.from(stored).equals(before)).toBe(true);
    expect(unpackValue(stored)).toEqual(ramp(LEN));
  });
});

describe('agent malloc settings', () => {
  const options = { agentGraceMs: 1000, inlineConcurrency: 8, maxFrameBytes: 1 << 30, agentResources: {} } as unknown as ResolvedPoolOptions;

  it('every agent gets them', () => {
    const env = agentEnv(options);
    expect(env.MALLOC_MMAP_MAX_).toBe('0');
    expect(env.MALLOC_ARENA_MAX).toBe('1');
    expect(Number(env.MALLOC_TRIM_THRESHOLD_)).toBe(512 * 1024 * 1024);
  });

  it('a setting in the environment wins', () => {
    process.env.MALLOC_ARENA_MAX = '4';
    try {
      const env = agentEnv(options);
      expect(env.MALLOC_ARENA_MAX).toBeUndefined();
      expect(env.MALLOC_MMAP_MAX_).toBe('0');
    } finally {
      delete process.env.MALLOC_ARENA_MAX;
    }
  });
});
