// Numbers packed and unpacked without msgpackr (protocol/numbers.ts): the same bytes msgpackr's
// structured mode writes, the same values it reads, and anything that is not a number (or a short
// list of numbers) left to msgpackr.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { packNumber, unpackNumbers } from '../../protocol/numbers.js';

const msgpackr = new Packr({ structuredClone: true, moreTypes: true });

const edges = [0, -0, 1, 31, 32, 127, 128, 255, 256, 65_535, 65_536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53, -1, -31, -32, -33, -127, -128, -129, -32_768, -32_769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 40), 0.5, -1.25, 1e-300, 1e300, Math.PI, Number.MAX_VALUE, Number.MIN_VALUE, NaN, Infinity, -Infinity];
let seed = 7;
const random = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const values = [...edges, ...Array.from({ length: 2_000 }, (_, i) => (i % 2 === 0 ? Math.round((random() - 0.5) * 2 ** (i % 40)) : (random() - 0.5) * 10 ** (i % 20)))];

describe('numbers without msgpackr', () => {
  it('pack to the bytes msgpackr writes, owned or as views', () => {
    for (const v of values) {
      const expected = [...msgpackr.pack(v)];
      expect([...packNumber(v, true)], String(v)).toEqual(expected);
      expect([...packNumber(v, false)], String(v)).toEqual(expected);
    }
  });

  it('views of a shared buffer stay as they were when more are packed', () => {
    const views = values.map((v) => packNumber(v, false));
    views.forEach((bytes, i) => expect(Object.is(msgpackr.unpack(Buffer.from(bytes)), Object.is(values[i], -0) ? 0 : values[i])).toBe(true));
  });

  it('unpack what msgpackr packs: a number, or a list of up to 15', () => {
    for (const v of values) expect(Object.is(unpackNumbers(msgpackr.pack(v)), msgpackr.unpack(msgpackr.pack(v))), String(v)).toBe(true);
    for (let n = 0; n <= 15; n++) {
      const list = values.slice(n * 7, n * 7 + n);
      expect(unpackNumbers(msgpackr.pack(list))).toEqual(msgpackr.unpack(msgpackr.pack(list)));
    }
  });

  it('leave everything else to msgpackr', () => {
    const others: unknown[] = ['x', null, true, undefined, [1, 'a'], [[1]], Array.from({ length: 16 }, (_, i) => i), { a: 1 }, new Map([[1, 2]]), 10n, new Float64Array([1]), [1, null], new Date(0)];
    for (const v of others) expect(unpackNumbers(msgpackr.pack(v)), String(v)).toBeUndefined();
    // float32 (msgpackr may round it), cut short, or with bytes after the value
    expect(unpackNumbers(Uint8Array.from([0xca, 0x3f, 0xc0, 0, 0]))).toBeUndefined();
    expect(unpackNumbers(Uint8Array.from([0xcb, 0x3f]))).toBeUndefined();
    expect(unpackNumbers(Uint8Array.from([0x92, 0x01]))).toBeUndefined();
    expect(unpackNumbers(Uint8Array.from([0x01, 0x02]))).toBeUndefined();
    expect(unpackNumbers(new Uint8Array(0))).toBeUndefined();
    // a record reference (structured mode), not the fixint it would be in plain msgpack
    expect(unpackNumbers(Uint8Array.from([0x40]))).toBeUndefined();
    expect(unpackNumbers(Uint8Array.from([0x91, 0x7f]))).toBeUndefined();
  });
});
