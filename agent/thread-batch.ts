import type { RunInThread, ThreadResult } from './thread-messages.js';
import { readAscii, writeAscii } from '../protocol/ascii.js';

/**
 * Runs (to a worker thread) and results (back) cross as one packed buffer per batch, moved, not as
 * an array of objects: the structured clone of a batch of run objects cost ~2 µs a run on each side,
 * a result ~3 µs (its object, and the ArrayBuffer of its value moved on its own), where copying the
 * bytes into one buffer costs ~1 µs (a trivial map, issue 16). What is not common (code sent the
 * first time, deps, large arguments or values, refs, failures) still travels as an object beside it,
 * in order: the packed records say where.
 */

/** Arguments and values up to this size are copied into the batch; larger ones travel (and move) on their own. */
export const PACKED_MAX_BYTES = 16 * 1024;

/**
 * Batches of fewer runs or results cross as plain objects: packing pays for a frame of many tiny
 * tasks, but an agent that runs a task now and then (a broadcast to 32 agents, an interactive call)
 * runs the packing code too rarely for the JIT to compile it, and the structured clone is native:
 * a broadcast to 32 agents took 24–26 ms packed against 20–21 ms cloned.
 */
export const MIN_PACKED = 4;

/**
 * Results a thread posts in one message at most. A thread of tiny tasks is given twice this many
 * (WorkerPool's depth): the first half's results leave while the second half runs, the runs they
 * make room for are posted meanwhile, and the thread finds them when it is done. Given one
 * message's worth, it ran them all, posted, and slept until the main thread's next batch: a
 * wake-up and an idle thread round trip per batch (a trivial map, issue 16).
 */
export const RESULTS_PER_POST = 32;

/** A record that is the next entry of `whole`. */
const WHOLE = 0;
const PACKED = 1;
const CHUNK = 2;
const EXPRESS = 4;
/** Ids are at most 128 characters (protocol `Id`), up to 3 UTF-8 bytes each; a string index fits 16 bits. */
const MAX_ID_BYTES = 0xffff;
const MAX_STRINGS = 0xffff;

/** Strings and byte strings up to this long are copied byte by byte (not through a call into C++). */
const SHORT = 32;

/** Bytes appended to a buffer that grows; the result owns its ArrayBuffer (it is moved to the other thread). */
class Packer {
  private buf: Buffer;
  at = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafeSlow(Math.max(256, capacity));
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.byteLength) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buf.byteLength * 2, this.at + n));
    this.buf.copy(grown, 0, 0, this.at);
    this.buf = grown;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.at++] = v;
  }

  u16(v: number): void {
    this.room(2);
    this.buf.writeUInt16LE(v, this.at);
    this.at += 2;
  }

  f64(v: number): void {
    this.room(8);
    this.buf.writeDoubleLE(v, this.at);
    this.at += 8;
  }

  /** A string as u16 length + UTF-8; false (nothing written) when it is longer than that allows. */
  str(s: string): boolean {
    this.room(2 + 3 * s.length);
    const { buf } = this;
    // Ids are short and ASCII as a rule: copied here, a call into C++ costs more.
    const length = s.length;
    if (length <= SHORT && writeAscii(buf, this.at + 2, s)) {
      buf.writeUInt16LE(length, this.at);
      this.at += 2 + length;
      return true;
    }
    const n = buf.write(s, this.at + 2, 'utf8');
    if (n > MAX_ID_BYTES) return false;
    this.buf.writeUInt16LE(n, this.at);
    this.at += 2 + n;
    return true;
  }

  bytes(b: Uint8Array): void {
    this.room(4 + b.byteLength);
    const { buf } = this;
    const n = b.byteLength;
    buf.writeUInt32LE(n, this.at);
    if (n <= SHORT) for (let k = 0; k < n; k++) buf[this.at + 4 + k] = b[k]!;
    else buf.set(b, this.at + 4);
    this.at += 4 + n;
  }

  done(): Uint8Array {
    return new Uint8Array(this.buf.buffer, 0, this.at);
  }
}

/** Reads what a Packer wrote. */
class Unpacker {
  private readonly buf: Buffer;
  at = 0;

  constructor(bytes: Uint8Array) {
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get more(): boolean {
    return this.at < this.buf.byteLength;
  }

  u8(): number {
    return this.buf[this.at++]!;
  }

  u16(): number {
    const v = this.buf.readUInt16LE(this.at);
    this.at += 2;
    return v;
  }

  f64(): number {
    const v = this.buf.readDoubleLE(this.at);
    this.at += 8;
    return v;
  }

  str(): string {
    const n = this.u16();
    const { buf, at } = this;
    this.at += n;
    // ASCII as a rule (see Packer.str).
    const ascii = n <= SHORT ? readAscii(buf, at, n) : null;
    if (ascii !== null) return ascii;
    return buf.toString('utf8', at, at + n);
  }

  /** A view of the next bytes (of the batch's buffer, which this thread owns): a Buffer, as msgpackr wants it. */
  bytes(): Buffer {
    const n = this.buf.readUInt32LE(this.at);
    const start = this.buf.byteOffset + this.at + 4;
    this.at += 4 + n;
    return Buffer.from(this.buf.buffer, start, n);
  }
}

/** Runs as they cross to a thread (see {@link packRuns}). */
export interface PackedRuns {
  /** null: every run is in `whole` (a batch too small to pay for packing). */
  packed: Uint8Array | null;
  /** Code hashes and export names the packed records refer to by index. */
  strings: (string | null)[];
  whole: RunInThread[];
}

/** A run packs when nothing of it needs more than bytes: no code, no deps, small arguments. */
function packable(run: RunInThread): boolean {
  return run.code === null && run.deps.size === 0 && run.args.byteLength <= PACKED_MAX_BYTES;
}

function indexOf(strings: (string | null)[], s: string | null): number {
  for (let i = 0; i < strings.length; i++) if (strings[i] === s) return i;
  strings.push(s);
  return strings.length - 1;
}

/** Packs runs for one postMessage; `transfer` gets the packed buffer (the whole runs' own moves are the caller's). */
export function packRuns(runs: readonly RunInThread[], transfer: ArrayBuffer[]): PackedRuns {
  if (runs.length < MIN_PACKED) return { packed: null, strings: [], whole: [...runs] };
  let size = 0;
  for (const run of runs) size += 11 + 3 * run.id.length + run.args.byteLength;
  const p = new Packer(size);
  const strings: (string | null)[] = [];
  const whole: RunInThread[] = [];
  for (const run of runs) {
    if (!packable(run) || strings.length >= MAX_STRINGS - 1) {
      p.u8(WHOLE);
      whole.push(run);
      continue;
    }
    const start = p.at;
    p.u8(PACKED | (run.chunk ? CHUNK : 0) | (run.express ? EXPRESS : 0));
    if (!p.str(run.id)) {
      p.at = start;
      p.u8(WHOLE);
      whole.push(run);
      continue;
    }
    p.u16(indexOf(strings, run.hash));
    p.u16(indexOf(strings, run.export));
    p.bytes(run.args);
  }
  const packed = p.done();
  transfer.push(packed.buffer as ArrayBuffer);
  return { packed, strings, whole };
}

const NO_DEPS = new Map<string, Uint8Array>();

/** The runs {@link packRuns} packed, in their order. The packed ones' args view the batch's buffer. */
export function unpackRuns({ packed, strings, whole }: PackedRuns): RunInThread[] {
  if (packed === null) return whole;
  const u = new Unpacker(packed);
  const out: RunInThread[] = [];
  let w = 0;
  while (u.more) {
    const flags = u.u8();
    if (flags === WHOLE) {
      out.push(whole[w++]!);
      continue;
    }
    const id = u.str();
    const hash = strings[u.u16()]!;
    const exportName = strings[u.u16()] ?? null;
    // Deps are never shared between runs (ownDeps marks them), so each packed run gets the same empty map only to read.
    out.push({ id, hash, code: null, export: exportName, args: u.bytes(), chunk: (flags & CHUNK) !== 0, deps: NO_DEPS, express: (flags & EXPRESS) !== 0 });
  }
  return out;
}

/** Results as they cross back from a thread (see {@link ResultBatch}). */
export interface PackedResults {
  /** null: every result is in `whole` (see MIN_PACKED). */
  packed: Uint8Array | null;
  whole: ThreadResult[];
}

/**
 * The results of one batch, gathered as tasks end: a done result with a small value and no refs is
 * copied in; anything else goes whole, its value moved. A value of up to PACKED_MAX_BYTES may be a
 * view of msgpackr's buffer (packValue's `viewUpTo`): it is copied, never moved.
 */
export class ResultBatch {
  private p: Packer | null = null;
  private whole: ThreadResult[] = [];
  private transfer: ArrayBuffer[] = [];
  count = 0;

  /** The first results of a batch, held as they are until the batch has MIN_PACKED of them. */
  private first: ThreadResult[] = [];

  add(result: ThreadResult): void {
    this.count++;
    if (this.count < MIN_PACKED) {
      this.first.push(result);
      return;
    }
    if (this.p === null) {
      this.p = new Packer(4096);
      const first = this.first;
      this.first = [];
      for (const r of first) this.pack(r, this.p);
    }
    this.pack(result, this.p);
  }

  private pack(result: ThreadResult, p: Packer): void {
    if (result.type === 'done' && result.refs.length === 0 && result.value.byteLength <= PACKED_MAX_BYTES) {
      const start = p.at;
      p.u8(PACKED);
      if (p.str(result.id)) {
        p.f64(result.runMs);
        p.bytes(result.value);
        return;
      }
      p.at = start;
    }
    p.u8(WHOLE);
    if (result.type !== 'done') {
      this.whole.push(result);
      return;
    }
    // One with refs: its small value may still be a view of msgpackr's buffer, not to be moved.
    const value = result.value.byteLength <= PACKED_MAX_BYTES ? new Uint8Array(result.value) : result.value;
    this.transfer.push(value.buffer as ArrayBuffer);
    this.whole.push(value === result.value ? result : { ...result, value });
  }

  /**
   * A batch of one result, taken out to be posted as it is (a batch's arrays cost more to clone
   * than the result); null when the batch holds more. A small value is copied (it may view
   * msgpackr's buffer, which a clone would copy whole) and cloned: moving a buffer of a few bytes
   * cost a thread's post ~2.5 µs more than cloning it (a post 4–6 µs against 2; issue 16). A large
   * one is moved.
   */
  takeLone(): { result: ThreadResult; transfer: ArrayBuffer[] } | null {
    if (this.count !== 1) return null;
    const r = this.first[0]!;
    this.first = [];
    this.count = 0;
    if (r.type !== 'done') return { result: r, transfer: [] };
    if (r.value.byteLength <= PACKED_MAX_BYTES) return { result: { ...r, value: new Uint8Array(r.value) }, transfer: [] };
    return { result: r, transfer: [r.value.buffer as ArrayBuffer] };
  }

  /** The batch for one postMessage, and what it moves; the batch starts empty again. */
  take(): { results: PackedResults; transfer: ArrayBuffer[] } {
    if (this.p === null) {
      // Too few to pack: each goes whole, its value moved (a small one may view msgpackr's buffer: copied first).
      const whole = this.first.map((r) => (r.type === 'done' && r.value.byteLength <= PACKED_MAX_BYTES ? { ...r, value: new Uint8Array(r.value) } : r));
      const transfer: ArrayBuffer[] = [];
      for (const r of whole) if (r.type === 'done') transfer.push(r.value.buffer as ArrayBuffer);
      this.first = [];
      this.count = 0;
      return { results: { packed: null, whole }, transfer };
    }
    const packed = this.p.done();
    const transfer = [packed.buffer as ArrayBuffer, ...this.transfer];
    const results = { packed, whole: this.whole };
    this.p = null;
    this.whole = [];
    this.transfer = [];
    this.count = 0;
    return { results, transfer };
  }
}

/** The results a {@link ResultBatch} packed, in order. Packed values view the batch's buffer. */
export function unpackResults({ packed, whole }: PackedResults, each: (result: ThreadResult) => void): void {
  if (packed === null) {
    for (const r of whole) each(r);
    return;
  }
  const u = new Unpacker(packed);
  let w = 0;
  while (u.more) {
    if (u.u8() === WHOLE) {
      each(whole[w++]!);
      continue;
    }
    const id = u.str();
    const runMs = u.f64();
    each({ type: 'done', id, value: u.bytes(), refs: NO_REFS, runMs });
  }
}

const NO_REFS: string[] = [];
