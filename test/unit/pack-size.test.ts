// A packed value that is mostly one large typed array holds about its own size of memory, not the
// 4x msgpackr grows its buffer by below 16 MiB (that memory, counted by V8 as external, brought a
// full GC about every 10 MB round trip), and still unpacks exact.
import { describe, expect, it } from 'vitest';
import { packValue, unpackValue } from '../../protocol/index.js';

describe('packed size', () => {
  it('a 10 MB Float64Array packs into a buffer of about its size', () => {
    const arr = new Float64Array(1_310_720).map((_, i) => i * 0.5);
    const packed = packValue([arr]);
    expect(packed.byteLength).toBeGreaterThan(arr.byteLength);
    expect(packed.buffer.byteLength).toBeLessThan(arr.byteLength * 1.05);
    const [back] = unpackValue(packed) as [Float64Array];
    expect(Buffer.from(back.buffer, back.byteOffset, back.byteLength).equals(Buffer.from(arr.buffer))).toBe(true);
  });

  it('the same array many times is counted once', () => {
    const arr = new Float64Array((2 * 1024 * 1024) / 8).fill(3);
    const packed = packValue(Array.from({ length: 50 }, () => arr));
    expect(packed.buffer.byteLength).toBeLessThan(arr.byteLength * 1.5);
    const back = unpackValue(packed) as Float64Array[];
    expect(back).toHaveLength(50);
    expect(back[49]).toBe(back[0]);
  });

  it('a pack that fails leaves the next ones correct', () => {
    const arr = new Float64Array((2 * 1024 * 1024) / 8).fill(5);
    // deeper than the size hint looks, so the pack itself meets it
    const failing = { a: { b: { c: { get d(): never { throw new Error('no d'); } } } } };
    expect(() => packValue([arr, failing])).toThrow('no d');
    const small = packValue({ a: 1 });
    expect(small.buffer.byteLength).toBeLessThan(64 * 1024);
    expect(unpackValue(small)).toEqual({ a: 1 });
    const [back] = unpackValue(packValue([arr])) as [Float64Array];
    expect(back.every((x) => x === 5)).toBe(true);
  });
});
