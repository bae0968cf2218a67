import { addExtension, type Packr } from 'msgpackr';

/**
 * How byte views (Buffers, typed arrays) pack. msgpackr's extensions are global to the process, so
 * one extension serves both packers:
 * - in a frame's envelope (codec.ts), a view of SEGMENT_MIN_BYTES or more leaves the msgpack as a
 *   raw segment (sent as a WebSocket message of its own, never copied into the envelope); the
 *   envelope holds its index;
 * - in a user value (values.ts), a typed array of ALIGNED_MIN_BYTES or more is packed with padding
 *   so its bytes sit 8-aligned in the packed value, and an unpack that owns the bytes can view them
 *   in place instead of copying them out.
 * Everything else is written byte for byte as msgpackr's own typed-array extension writes it.
 */

/** Views at least this large travel as frame segments. */
export const SEGMENT_MIN_BYTES = 64 * 1024;
/** Typed arrays at least this large are packed aligned (smaller ones cost little to copy). */
export const ALIGNED_MIN_BYTES = 4 * 1024;
/** msgpack extension types (application range; actor refs 0x61, object refs 0x62). */
export const SEGMENT_EXTENSION = 0x53;
export const ALIGNED_EXTENSION = 0x41;

// msgpackr's type codes for its 't' extension, in its order (unpack.js `typedArrays`).
const TYPED_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array] as const;
type TypedArrayClass = (typeof TYPED_ARRAYS)[number];
const TypedArray = Object.getPrototypeOf(Uint8Array) as new (...args: never[]) => ArrayBufferView;

interface Target {
  target: Uint8Array;
  targetView: DataView;
  position: number;
}
type Allocate = (size: number) => Target;

// Packing and unpacking are synchronous: these hold the state of the one in progress.
let envelopePackr: Packr | null = null;
let segmentsOut: Uint8Array[] | null = null;
let segmentsIn: readonly Uint8Array[] | null = null;
let segmentsUsed = 0;
let viewing = false;

/** Runs `pack` (of the envelope packr) with large views set aside as segments. */
export function packingSegments<T>(packr: Packr, pack: () => T): { packed: T; segments: Uint8Array[] } {
  const segments: Uint8Array[] = [];
  envelopePackr = packr;
  segmentsOut = segments;
  try {
    return { packed: pack(), segments };
  } finally {
    envelopePackr = null;
    segmentsOut = null;
  }
}

/** Runs `unpack` with segment references resolved against `segments`; returns how many it used. */
export function unpackingSegments<T>(segments: readonly Uint8Array[], unpack: () => T): { value: T; used: number } {
  segmentsIn = segments;
  segmentsUsed = 0;
  try {
    return { value: unpack(), used: segmentsUsed };
  } finally {
    segmentsIn = null;
  }
}

/** Runs `unpack` with aligned typed arrays viewing the packed bytes (the caller owns them). */
export function viewingArrays<T>(unpack: () => T): T {
  const was = viewing;
  viewing = true;
  try {
    return unpack();
  } finally {
    viewing = was;
  }
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return view instanceof Uint8Array ? view : new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function writeSegment(view: ArrayBufferView, allocate: Allocate): void {
  const index = segmentsOut!.push(bytesOf(view)) - 1;
  const { target, targetView, position } = allocate(6);
  target[position] = 0xd6; // fixext 4
  target[position + 1] = SEGMENT_EXTENSION;
  targetView.setUint32(position + 2, index);
}

// ext 32, then [type code, pad] and up to 7 bytes on either side of the data so it starts 8-aligned
// (the packed value starts 8-aligned: msgpackr word-aligns each pack's start).
function writeAligned(view: ArrayBufferView, code: number, allocate: Allocate): void {
  const length = view.byteLength;
  const { target, targetView, position } = allocate(6 + 9 + length);
  target[position] = 0xc9;
  targetView.setUint32(position + 1, 9 + length);
  target[position + 5] = ALIGNED_EXTENSION;
  target[position + 6] = code;
  const pad = (8 - ((position + 8) % 8)) % 8;
  target[position + 7] = pad;
  target.set(bytesOf(view), position + 8 + pad);
}

// msgpackr's own encodings: bin for Buffers (and every view in a plain packr), 't' for typed arrays.
function writeBuiltin(view: ArrayBufferView, asBin: boolean, code: number, allocate: Allocate): void {
  const bytes = bytesOf(view);
  const length = bytes.byteLength;
  const extra = asBin ? 0 : 2;
  let at: Target;
  if (!asBin) {
    at = length + 1 < 0x100 ? allocate(4 + length) : length + 1 < 0x10000 ? allocate(5 + length) : allocate(7 + length);
  } else {
    at = length < 0x100 ? allocate(2 + length) : length < 0x10000 ? allocate(3 + length) : allocate(5 + length);
  }
  const { target, targetView } = at;
  let p = at.position;
  const n = length + extra - 1;
  if (asBin) {
    p = sizeHeader(target, targetView, p, length, 0xc4);
  } else {
    p = sizeHeader(target, targetView, p, n, 0xc7);
    target[p++] = 0x74;
    target[p++] = code;
  }
  target.set(bytes, p);
}

addExtension({
  Class: TypedArray,
  type: SEGMENT_EXTENSION,
  pack(this: Packr & { moreTypes?: boolean }, view: ArrayBufferView, allocate: Allocate): undefined {
    if (this === envelopePackr && segmentsOut !== null && view.byteLength >= SEGMENT_MIN_BYTES) {
      writeSegment(view, allocate);
      return undefined;
    }
    const code = TYPED_ARRAYS.indexOf(view.constructor as TypedArrayClass);
    const asBin = view.constructor === Buffer || !this.moreTypes || code < 0;
    if (!asBin && view.byteLength >= ALIGNED_MIN_BYTES) writeAligned(view, code, allocate);
    else writeBuiltin(view, asBin, code < 0 ? 1 : code, allocate);
    return undefined;
  },
  unpack(data: Uint8Array): Uint8Array {
    if (segmentsIn === null || data.byteLength !== 4) throw new Error('a segment reference outside a frame');
    const index = new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
    const segment = segmentsIn[index];
    if (!segment) throw new Error(`a reference to segment ${index} of ${segmentsIn.length}`);
    segmentsUsed++;
    return segment;
  },
} as unknown as Parameters<typeof addExtension>[0]);

addExtension({
  type: ALIGNED_EXTENSION,
  unpack(data: Uint8Array): ArrayBufferView {
    const Class = TYPED_ARRAYS[data[0] ?? 255];
    const pad = data[1] ?? 8;
    const length = data.byteLength - 9;
    if (!Class || pad > 7 || length < 0 || length % Class.BYTES_PER_ELEMENT !== 0) throw new Error('a malformed typed array');
    const offset = data.byteOffset + 2 + pad;
    const buffer = data.buffer as ArrayBuffer;
    if (viewing && offset % Class.BYTES_PER_ELEMENT === 0) return new Class(buffer, offset, length / Class.BYTES_PER_ELEMENT);
    return new Class(buffer.slice(offset, offset + length));
  },
} as unknown as Parameters<typeof addExtension>[0]);

/**
 * A msgpack size header: `first` is the 8-bit form's type byte (bin 0xc4, ext 0xc7); the 16- and
 * 32-bit forms follow it. Returns the position after the header.
 */
function sizeHeader(target: Uint8Array, view: DataView, p: number, size: number, first: number): number {
  if (size < 0x100) {
    target[p++] = first;
    target[p++] = size;
  } else if (size < 0x10000) {
    target[p++] = first + 1;
    target[p++] = size >> 8;
    target[p++] = size & 0xff;
  } else {
    target[p++] = first + 2;
    view.setUint32(p, size);
    p += 4;
  }
  return p;
}
