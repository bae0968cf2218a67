/**
 * Frames of one message shape, packed and read by hand: the msgpack bytes the envelope's packr
 * (envelope.ts: records on, byte views as bin) writes for an array of messages that share one
 * shape, without msgpackr's generic walk. done-frames.ts and task-frames.ts use it for the two
 * messages of every task. Why: per message msgpackr's walk (its extension hook for every byte
 * view included) cost about a microsecond, and its reader compiles a new function for a frame's
 * record shape after three uses: records do not carry from one frame to the next, so every frame
 * of a trivial map paid a compile and ran fresh, unoptimised code (issue 16).
 * A reader accepts only what it is sure of; anything else, or odd, is left to msgpackr (null).
 */

/** Most messages one frame may carry (envelope.ts MAX_MESSAGES_PER_FRAME). */
export const MAX_FRAME_MESSAGES = 65_536;
/** Byte views this large go through msgpackr (they may be a frame's raw segments: binary.ts SEGMENT_MIN_BYTES). */
export const MAX_HAND_BYTES = 16 * 1024;
/** Ids are 1 to 128 characters (protocol `Id`). */
export const MAX_ID_CHARS = 128;

/** The record id msgpackr gives a frame's first shape; each later message of it starts with this byte. */
const RECORD_ID = 0x40;

/**
 * The bytes msgpackr writes at a record shape's first use: fixext 1 'r' (0x72), the record id,
 * the array of its keys.
 */
export function recordDefinition(keys: readonly string[]): Buffer {
  const bytes = [0xd4, 0x72, RECORD_ID, 0x90 | keys.length];
  for (const key of keys) bytes.push(0xa0 | key.length, ...Buffer.from(key, 'latin1'));
  return Buffer.from(bytes);
}

/** A short ASCII string's msgpack bytes (a message's `type`). */
export function fixString(s: string): Buffer {
  return Buffer.from([0xa0 | s.length, ...Buffer.from(s, 'latin1')]);
}

/** Own enumerable keys, counted without allocating. */
export function keyCount(o: object): number {
  let n = 0;
  for (const key in o) if (Object.hasOwn(o, key)) n++;
  return n;
}

export function isHandId(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= MAX_ID_CHARS;
}

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
    const b = this.b;
    if (count < 0x10) {
      b[this.p++] = 0x90 | count;
    } else if (count < 0x10000) {
      b[this.p] = 0xdc;
      b.writeUInt16BE(count, this.p + 1);
      this.p += 3;
    } else {
      b[this.p] = 0xdd;
      b.writeUInt32BE(count, this.p + 1);
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
      let k = 0;
      for (; k < length; k++) {
        const c = s.charCodeAt(k);
        if (c >= 0x80) break;
        b[p + 1 + k] = c;
      }
      if (k === length) {
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
    const first = data[0] ?? 0;
    let n = 0;
    if ((first & 0xf0) === 0x90) {
      n = first & 0x0f;
      this.p = 1;
    } else if (first === 0xdc && this.end > 3) {
      n = this.b.readUInt16BE(1);
      this.p = 3;
    } else if (first === 0xdd && this.end > 5) {
      n = this.b.readUInt32BE(1);
      this.p = 5;
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
    if (len > 32) {
      for (let i = p; i < p + len; i++) {
        if (b[i]! >= 0x80) {
          this.bad = true;
          return '';
        }
      }
      return b.toString('latin1', p, p + len);
    }
    // One array per length: setting an array's length costs more than the copy.
    const codes = CODES[len]!;
    for (let k = 0; k < len; k++) {
      const c = b[p + k]!;
      if (c >= 0x80) {
        this.bad = true;
        return '';
      }
      codes[k] = c;
    }
    return String.fromCharCode.apply(null, codes);
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

const CODES: number[][] = Array.from({ length: 33 }, (_, n) => new Array<number>(n).fill(0));
let lastBytes: Buffer = Buffer.alloc(0);
let lastString: string | null = null;
let lastWritten: string | null = null;
let lastWrittenBytes: Buffer = Buffer.alloc(0);
const EMPTY = Buffer.alloc(0);
