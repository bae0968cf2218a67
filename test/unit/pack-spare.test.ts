// A large packed value's buffer, given back once nothing reads it (protocol/values.ts
// releasePacked), packs the next large value: only the exact bytes handed out come back, once, and
// a spare never serves a value much smaller than itself.
import { describe, expect, it } from 'vitest';
import { packValue, releasePacked, unpackValue } from '../../protocol/values.js';

const MB = 1024 * 1024;
const array = (bytes: number, fill: number): Float64Array => new Float64Array(bytes / 8).fill(fill);
const first = (packed: Uint8Array): number => (unpackValue(packed) as [Float64Array])[0]![0]!;

describe('spare pack buffer', () => {
  it('packs the next large value into the buffer given back, exactly', () => {
    const a = packValue([array(4 * MB, 1)]);
    releasePacked(a);
    const b = packValue([array(4 * MB, 2)]);
    expect(b.buffer).toBe(a.buffer);
    expect(first(b)).toBe(2);
    const c = packValue([array(4 * MB, 3)]);
    expect(c.buffer).not.toBe(b.buffer);
    expect(first(b)).toBe(2);
  });

  it('ignores bytes it did not hand out as they are, and bytes given back already', () => {
    const a = packValue([array(4 * MB, 1)]);
    releasePacked(a.subarray(0, a.byteLength - 1));
    releasePacked(new Uint8Array(a));
    expect(packValue([array(4 * MB, 2)]).buffer).not.toBe(a.buffer);
    releasePacked(a);
    const b = packValue([array(4 * MB, 3)]);
    expect(b.buffer).toBe(a.buffer);
    // A holder that gives back again after the buffer was handed out anew gives nothing away.
    releasePacked(a);
    const c = packValue([array(4 * MB, 4)]);
    expect(c.buffer).not.toBe(b.buffer);
    expect([first(b), first(c)]).toEqual([3, 4]);
    releasePacked(packValue(7));
    releasePacked(packValue([1, 2, 3]));
  });

  it('keeps a spare only for values of about its size', () => {
    const big = packValue([array(8 * MB, 1)]);
    releasePacked(big);
    const small = packValue([array(2 * MB, 2)]);
    expect(small.buffer).not.toBe(big.buffer);
    const again = packValue([array(6 * MB, 3)]);
    expect(again.buffer).toBe(big.buffer);
    expect([first(small), first(again)]).toEqual([2, 3]);
  });
});
