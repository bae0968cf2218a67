/** Writes the frames of record-frames.ts. */
import { writeAscii } from './ascii.js';
import { MAX_FRAME_MESSAGES, RECORD_ID } from './record-frames.js';

/** Frames are written one after another into this buffer (each a view of it; a full one is left to them). */
let out = Buffer.allocUnsafeSlow(64 * 1024);
let at = 0;

/** Writes one frame; `size` must bound what is written (3 × characters for a string, + 9 per value). */
export class FrameWriter {
  readonly b: Buffer;
  private readonly start: number;
  p: number;

  constructor(size: number, count: number, private readonly definition: Buffer) {
    const need = size + 5 + definition.length + count;
    if (out.byteLength - at < need) {
      out = Buffer.allocUnsafeSlow(Math.max(need, 64 * 1024));
      at = 0;
    }
    this.b = out;
    this.start = at;
    this.p = at;
    this.array(count);
  }

  /** An array's header, as msgpackr writes it (fixarray, array 16 or array 32). */
  array(n: number): void {
    const b = this.b;
    if (n < 0x10) {
      b[this.p++] = 0x90 | n;
    } else if (n < 0x10000) {
      b[this.p] = 0xdc;
      b.writeUInt16BE(n, this.p + 1);
      this.p += 3;
    } else {
      b[this.p] = 0xdd;
      b.writeUInt32BE(n, this.p + 1);
      this.p += 5;
    }
  }

  /** Starts message `i`: the shape's definition before the first, its id before the others. */
  record(i: number): void {
    if (i === 0) this.raw(this.definition);
    else this.b[this.p++] = RECORD_ID;
  }

  /** Bytes as they are (a type string, a definition): copied here, a call into C++ costs more. */
  raw(bytes: Buffer): void {
    const { b } = this;
    if (bytes.length > 32) bytes.copy(b, this.p);
    else for (let k = 0; k < bytes.length; k++) b[this.p + k] = bytes[k]!;
    this.p += bytes.length;
  }

  nil(): void {
    this.b[this.p++] = 0xc0;
  }

  bool(v: boolean): void {
    this.b[this.p++] = v ? 0xc3 : 0xc2;
  }

  str(s: string): void {
    const { b } = this;
    const p = this.p;
    const length = s.length;
    // Most ids are ASCII and under 32 bytes: a fixstr, copied here.
    if (length < 32) {
      if (writeAscii(b, p + 1, s)) {
        b[p] = 0xa0 | length;
        this.p = p + 1 + length;
        return;
      }
      const n = b.write(s, p + 1, 'utf8');
      if (n < 32) {
        b[p] = 0xa0 | n;
        this.p = p + 1 + n;
        return;
      }
    }
    const n = b.write(s, p + 2, 'utf8');
    if (n < 0x100) {
      b[p] = 0xd9;
      b[p + 1] = n;
      this.p = p + 2 + n;
      return;
    }
    b.copyWithin(p + 3, p + 2, p + 2 + n);
    b[p] = 0xda;
    b.writeUInt16BE(n, p + 1);
    this.p = p + 3 + n;
  }

  /** A string that repeats from message to message (a code hash): its bytes are kept from last time. */
  repeated(s: string): void {
    if (s === lastWritten) {
      this.raw(lastWrittenBytes);
      return;
    }
    const p = this.p;
    this.str(s);
    lastWritten = s;
    lastWrittenBytes = Buffer.from(this.b.subarray(p, this.p));
  }

  bin(v: Uint8Array): void {
    const { b } = this;
    const n = v.byteLength;
    if (n < 0x100) {
      b[this.p++] = 0xc4;
      b[this.p++] = n;
    } else {
      b[this.p++] = 0xc5;
      b.writeUInt16BE(n, this.p);
      this.p += 2;
    }
    if (n <= 32) for (let k = 0; k < n; k++) b[this.p + k] = v[k]!;
    else b.set(v, this.p);
    this.p += n;
  }

  /** A number as msgpackr writes it with records on: an unsigned 32-bit integer in its shortest form (fixints only below 0x40: 0x40–0x7f are record ids), else a float64. */
  num(v: number): void {
    const { b, p } = this;
    if (v >>> 0 === v) {
      if (v < 0x40) {
        b[p] = v;
        this.p = p + 1;
      } else if (v < 0x100) {
        b[p] = 0xcc;
        b[p + 1] = v;
        this.p = p + 2;
      } else if (v < 0x10000) {
        b[p] = 0xcd;
        b.writeUInt16BE(v, p + 1);
        this.p = p + 3;
      } else {
        b[p] = 0xce;
        b.writeUInt32BE(v, p + 1);
        this.p = p + 5;
      }
      return;
    }
    b[p] = 0xcb;
    b.writeDoubleBE(v, p + 1);
    this.p = p + 9;
  }

  /** The frame (a view: the next frame is written after it, as the socket may still hold this one). */
  done(): Buffer {
    at = this.p;
    return this.b.subarray(this.start, this.p);
  }
}

/** How one message shape is written by hand: which messages it takes, a bound on their size, their fields after the type. */
export interface FrameShape<T> {
  readonly definition: Buffer;
  /** The message type's bytes, written first. */
  readonly type: Buffer;
  plain(m: object): m is T & object;
  /** Bytes the fields may take (3 × characters for a string, + 9 per value), the type excluded. */
  size(m: T): number;
  write(w: FrameWriter, m: T): void;
}

/** A frame of `messages` as the envelope's packr writes it, when every one has `shape`'s form; else null. */
export function writeFrame<T>(messages: readonly object[], shape: FrameShape<T>): Buffer | null {
  const n = messages.length;
  if (n === 0 || n > MAX_FRAME_MESSAGES) return null;
  let size = 0;
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    if (!shape.plain(m)) return null;
    size += 1 + shape.type.length + shape.size(m);
  }
  const w = new FrameWriter(size, n, shape.definition);
  for (let i = 0; i < n; i++) {
    w.record(i);
    w.raw(shape.type);
    shape.write(w, messages[i] as T);
  }
  return w.done();
}

let lastWritten: string | null = null;
let lastWrittenBytes: Buffer = Buffer.alloc(0);
