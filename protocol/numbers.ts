/**
 * Numbers, and short lists of numbers, packed and unpacked without msgpackr: the arguments and
 * results of most trivial tasks (`map(x => x + 1, items)`), where msgpackr's structured mode cost
 * ~0.4 µs a pack and ~0.7 µs an unpack, mostly in setting itself up (issue 16). The bytes are the
 * ones msgpackr writes (test/unit/numbers.test.ts checks both ways), so either side may use either.
 */

/** The longest a packed number is: 0xcb and a float64. */
export const MAX_NUMBER_BYTES = 9;

/** Where small packed numbers are written one after another (never over each other): views stay valid. */
let slab = Buffer.allocUnsafeSlow(8192);
let slabAt = 0;

/** Bytes of `v` as msgpackr packs a number. `own`: in a buffer of their own; otherwise a view of a shared one. */
export function packNumber(v: number, own: boolean): Uint8Array {
  let out: Buffer;
  if (own) {
    out = Buffer.allocUnsafeSlow(numberBytes(v));
  } else {
    if (slabAt + MAX_NUMBER_BYTES > slab.byteLength) {
      slab = Buffer.allocUnsafeSlow(8192);
      slabAt = 0;
    }
    out = slab.subarray(slabAt, slabAt + numberBytes(v));
    slabAt += out.byteLength;
  }
  writeNumber(out, 0, v);
  return out;
}

function numberBytes(v: number): number {
  if (!Number.isInteger(v)) return 9;
  // 0x40-0x7f are record references in msgpackr's structured mode: it writes those numbers as uint8.
  if (v >= 0) return v < 0x40 ? 1 : v < 0x100 ? 2 : v < 0x10000 ? 3 : v <= 0xffffffff ? 5 : 9;
  return v >= -0x20 ? 1 : v >= -0x80 ? 2 : v >= -0x8000 ? 3 : v >= -0x80000000 ? 5 : 9;
}

function writeNumber(b: Buffer, at: number, v: number): number {
  switch (numberBytes(v)) {
    case 1:
      b[at] = v & 0xff;
      return at + 1;
    case 2:
      b[at] = v >= 0 ? 0xcc : 0xd0;
      b[at + 1] = v & 0xff;
      return at + 2;
    case 3:
      b[at] = v >= 0 ? 0xcd : 0xd1;
      b.writeUInt16BE(v & 0xffff, at + 1);
      return at + 3;
    case 5:
      b[at] = v >= 0 ? 0xce : 0xd2;
      if (v >= 0) b.writeUInt32BE(v, at + 1);
      else b.writeInt32BE(v, at + 1);
      return at + 5;
    default:
      b[at] = 0xcb;
      b.writeDoubleBE(v, at + 1);
      return at + 9;
  }
}

/**
 * The value of `bytes` when it is a number or a list of at most 15 numbers (as msgpackr packs
 * them); undefined for anything else, which msgpackr then unpacks.
 */
export function unpackNumbers(bytes: Uint8Array): number | number[] | undefined {
  const n = bytes.byteLength;
  if (n === 0) return undefined;
  const first = bytes[0]!;
  if (first < 0x90 || first > 0x9f) {
    const one = readNumber(bytes, 0);
    return one !== undefined && readEnd === n ? one : undefined;
  }
  const out: number[] = new Array<number>(first & 0x0f);
  let at = 1;
  for (let i = 0; i < out.length; i++) {
    const next = readNumber(bytes, at);
    if (next === undefined) return undefined;
    out[i] = next;
    at = readEnd;
  }
  return at === n ? out : undefined;
}

/** Where the item after the number {@link readNumber} read last starts (a result object per number was garbage per task). */
let readEnd = 0;

/** Eight bytes of a float64, big-endian as msgpack writes them, read through one shared view. */
const float64 = new DataView(new ArrayBuffer(8));

/**
 * One number at `at` (where the next item starts is left in `readEnd`); undefined for anything
 * else: float32 too (msgpackr may round those), and 0x40-0x7f (record references in structured
 * mode). Read byte by byte: a DataView per number was most of an unpacked result's garbage.
 */
function readNumber(b: Uint8Array, at: number): number | undefined {
  const t = b[at];
  if (t === undefined) return undefined;
  if (t < 0x40 || t >= 0xe0) {
    readEnd = at + 1;
    return t < 0x40 ? t : t - 0x100;
  }
  const size = t === 0xcc || t === 0xd0 ? 1 : t === 0xcd || t === 0xd1 ? 2 : t === 0xce || t === 0xd2 ? 4 : t === 0xcb ? 8 : 0;
  if (size === 0 || at + 1 + size > b.byteLength) return undefined;
  const p = at + 1;
  readEnd = p + size;
  switch (t) {
    case 0xcc:
      return b[p]!;
    case 0xd0:
      return (b[p]! << 24) >> 24;
    case 0xcd:
      return (b[p]! << 8) | b[p + 1]!;
    case 0xd1:
      return (((b[p]! << 24) >> 16) | b[p + 1]!);
    case 0xce:
      return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
    case 0xd2:
      return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
    default:
      for (let i = 0; i < 8; i++) float64.setUint8(i, b[p + i]!);
      return float64.getFloat64(0);
  }
}
