// Arguments that are all primitives skip the structured packer (protocol/values.ts packPrimitiveList): the bytes must be the
// ones it would have written, so the agent's structured unpacker reads the same values.
import { describe, expect, it } from 'vitest';
import { packValue, unpackValue } from '../../protocol/index.js';
import { packPrimitiveArguments } from '../../coordinator/engine/pack.js';
import { primitiveList } from '../../protocol/values.js';
import { ValueTooLargeError } from '../../coordinator/errors/errors.js';

const lists: unknown[][] = [
  [],
  [0],
  [1],
  [-1],
  [127, 128, 255, 256, 65535, 65536, 2 ** 31, 2 ** 32, 2 ** 53 - 1, -(2 ** 53 - 1)],
  [-32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1],
  [0.5, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE, 1e21, 1 / 3],
  ['', 'a', 'x'.repeat(31), 'x'.repeat(32), 'y'.repeat(255), 'y'.repeat(256), 'z'.repeat(70_000), 'héllo ✓ 🚀', '\u0000'],
  [true, false, null],
  [1, 'two', true, null, 4.5],
];

describe('primitive arguments', () => {
  it('pack to the same bytes as the structured packer', () => {
    for (const args of lists) {
      expect(primitiveList(args)).toBe(true);
      const fast = packPrimitiveArguments(args, 64 * 1024 * 1024, 'task t1 (f)');
      expect(Buffer.from(fast).equals(Buffer.from(packValue(args)))).toBe(true);
      expect(unpackValue(fast)).toEqual(unpackValue(packValue(args)));
    }
  });

  it('keeps earlier results intact while later ones are packed', () => {
    const packed = Array.from({ length: 5000 }, (_, i) => packPrimitiveArguments([i, `s${i}`], 64 * 1024 * 1024, 'x'));
    packed.forEach((bytes, i) => expect(unpackValue(bytes)).toEqual([i, `s${i}`]));
  });

  it('are only lists of numbers, strings, booleans and null', () => {
    for (const a of [undefined, 1n, {}, [], new Date(0), new Uint8Array(1), Symbol('s'), () => 1]) expect(primitiveList([1, a])).toBe(false);
  });

  it('are refused past the frame limit like any arguments', () => {
    expect(() => packPrimitiveArguments(['x'.repeat(100_000)], 64 * 1024, 'task t9 (f)')).toThrow(ValueTooLargeError);
  });
});
