/** Reads the frames of record-frames.ts. */
import { readAscii } from './ascii.js';
import { MAX_FRAME_MESSAGES, MAX_ID_CHARS, RECORD_ID } from './record-frames.js';

/** Reads one frame; any byte it is not sure of sets `bad` (the caller then leaves the frame to msgpackr). */
export class FrameReader {
  private readonly b: Buffer;
  private readonly end: number;
  p = 0;
  bad = false;
  /** How many messages the frame says it has (0: not a frame of this shape). */
  readonly count: number;

  constructor(data: Uint8Array, definition: Buffer) {
    this.b = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.end = data.byteLength;
    let n = this.array();
    if (n < 0) {
      // Not an array: not a frame of this shape (count 0), which says so without `bad`.
      n = 0;
      this.bad = false;
    }
    if (n > MAX_FRAME_MESSAGES || this.end - this.p < definition.length) n = 0;
    for (let i = 0; n > 0 && i < definition.length; i++) if (data[this.p + i] !== definition[i]) n = 0;
    this.count = n;
    this.p += definition.length;
  }

  /** Starts message `i` (the first follows the definition, read by the constructor). */
  record(i: number): void {
    if (i > 0 && this.b[this.p++] !== RECORD_ID) this.bad = true;
  }

  /** Exactly these bytes next (a message's type). */
  expect(bytes: Buffer): void {
    const { b, p } = this;
    if (p + bytes.length > this.end) {
      this.bad = true;
      return;
    }
    for (let k = 0; k < bytes.length; k++) {
      if (b[p + k] !== bytes[k]) {
        this.bad = true;
        return;
      }
    }
    this.p = p + bytes.length;
  }

  /** true for a nil (consumed), false for anything else (left to read). */
  nil(): boolean {
    if (this.b[this.p] !== 0xc0) return false;
    this.p++;
    return true;
  }

  bool(): boolean {
    const t = this.b[this.p++];
    if (t === 0xc3) return true;
    if (t !== 0xc2) this.bad = true;
    return false;
  }

  /** An array's length (fixarray, array 16 or array 32); -1, and bad, for anything else. */
  array(): number {
    const { b, p } = this;
    const h = b[p];
    if (h !== undefined && (h & 0xf0) === 0x90) {
      this.p = p + 1;
      return h & 0x0f;
    }
    if (h === 0xdc && p + 2 < this.end) {
      this.p = p + 3;
      return b.readUInt16BE(p + 1);
    }
    if (h === 0xdd && p + 4 < this.end) {
      this.p = p + 5;
      return b.readUInt32BE(p + 1);
    }
    this.bad = true;
    return -1;
  }

  /** True, and past them, when exactly these bytes are next; false (nothing read, nothing odd) otherwise. */
  take(bytes: Buffer): boolean {
    const { b, p } = this;
    if (p + bytes.length > this.end) return false;
    for (let k = 0; k < bytes.length; k++) if (b[p + k] !== bytes[k]) return false;
    this.p = p + bytes.length;
    return true;
  }

  /** An empty array. */
  empty(): void {
    if (this.b[this.p++] !== 0x90) this.bad = true;
  }

  /** An ASCII string (how msgpackr reads other UTF-8, invalid sequences included, is its own to decide). */
  str(): string {
    const { b } = this;
    const h = b[this.p];
    let len = -1;
    let p = this.p;
    if (h !== undefined && (h & 0xe0) === 0xa0) {
      len = h & 0x1f;
      p += 1;
    } else if (h === 0xd9 && p + 1 < this.end) {
      len = b[p + 1]!;
      p += 2;
    } else if (h === 0xda && p + 2 < this.end) {
      len = b.readUInt16BE(p + 1);
      p += 3;
    }
    if (len < 0 || p + len > this.end) {
      this.bad = true;
      return '';
    }
    this.p = p + len;
    const text = readAscii(b, p, len);
    if (text === null) this.bad = true;
    return text ?? '';
  }

  /**
   * A string that repeats from message to message (a code hash): the same bytes as last time give
   * the same string, read once, its hash computed once in the maps that look it up.
   */
  repeated(): string {
    const { b } = this;
    const h = b[this.p];
    if (h === 0xd9 || (h !== undefined && (h & 0xe0) === 0xa0)) {
      const p = this.p + (h === 0xd9 ? 2 : 1);
      const len = h === 0xd9 ? (b[this.p + 1] ?? -1) : h & 0x1f;
      if (len === lastBytes.length && p + len <= this.end && lastString !== null) {
        if (b.compare(lastBytes, 0, len, p, p + len) === 0) {
          this.p = p + len;
          return lastString;
        }
      }
    }
    const s = this.str();
    // str() reads ASCII only: as many bytes as characters, just before `p`.
    if (!this.bad && s.length <= MAX_ID_CHARS) {
      lastString = s;
      lastBytes = Buffer.from(b.subarray(this.p - s.length, this.p));
    }
    return s;
  }

  /** Bin 8 or 16: a view of the frame, as msgpackr gives it. */
  bin(): Buffer {
    const { b } = this;
    const h = b[this.p];
    let len = -1;
    let p = this.p;
    if (h === 0xc4 && p + 1 < this.end) {
      len = b[p + 1]!;
      p += 2;
    } else if (h === 0xc5 && p + 2 < this.end) {
      len = b.readUInt16BE(p + 1);
      p += 3;
    }
    if (len < 0 || p + len > this.end) {
      this.bad = true;
      return EMPTY;
    }
    this.p = p + len;
    return b.subarray(p, p + len);
  }

  /** A non-negative number: a fixint, uint 8/16/32, or a float64 (finite). */
  num(): number {
    const { b, p, end } = this;
    const t = b[p];
    // 0x40–0x7f are record ids in a frame with records, never numbers.
    if (t !== undefined && t < 0x40) {
      this.p = p + 1;
      return t;
    }
    if (t === 0xcc && p + 1 < end) {
      this.p = p + 2;
      return b[p + 1]!;
    }
    if (t === 0xcd && p + 2 < end) {
      this.p = p + 3;
      return b.readUInt16BE(p + 1);
    }
    if (t === 0xce && p + 4 < end) {
      this.p = p + 5;
      return b.readUInt32BE(p + 1);
    }
    if (t === 0xcb && p + 8 < end) {
      const v = b.readDoubleBE(p + 1);
      this.p = p + 9;
      if (v >= 0 && v <= Number.MAX_VALUE) return v;
    }
    this.bad = true;
    return 0;
  }

  /** True when every byte was read and nothing was odd. */
  get ok(): boolean {
    return !this.bad && this.p === this.end;
  }
}

/**
 * Reads a frame whose every message is `definition`'s shape and `type`, each by `read` (null: not
 * sure of it); null when anything in the frame is not exactly that.
 */
export function readFrame<T>(data: Uint8Array, definition: Buffer, type: Buffer, read: (r: FrameReader) => T | null): T[] | null {
  const r = new FrameReader(data, definition);
  const n = r.count;
  if (n === 0) return null;
  const messages = new Array<T>(n);
  for (let i = 0; i < n; i++) {
    r.record(i);
    r.expect(type);
    const m = read(r);
    if (m === null || r.bad) return null;
    messages[i] = m;
  }
  return r.ok ? messages : null;
}

let lastBytes: Buffer = Buffer.alloc(0);
let lastString: string | null = null;
const EMPTY = Buffer.alloc(0);
