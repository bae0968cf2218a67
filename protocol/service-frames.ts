/**
 * A connected map's frames, packed and read by hand as task-frames.ts and done-frames.ts do for
 * the agent's (record-frames.ts says why): the client's `submits` and the service's `results`,
 * the two messages every task of a map crosses the client connection in. Their columns (an id, a
 * task id and a byte view per task) were msgpackr's generic walk, one extension call per byte view,
 * then a second walk of every column by the hot check (issue 16).
 * The bytes are the envelope packr's (test/unit/service-frames.test.ts checks both ways). A reader
 * accepts only what it is sure of; anything else, or odd, is left to msgpackr and the schemas (null).
 * No schema is imported: the agent loads this file with the envelope.
 */
import { FrameReader, readFrame } from './frame-reader.js';
import { FrameWriter, writeFrame, type FrameShape } from './frame-writer.js';
import { isId, isPlainSubmits, keyCount } from './hot-messages.js';
import { fixString, MAX_FRAME_MESSAGES, MAX_HAND_BYTES, MAX_ID_CHARS, RECORD_ID, recordDefinition } from './record-frames.js';
import type { Results, Submits } from './service-messages.js';
import { MAX_BATCH } from './version.js';

/** Longest string of a `submits` base packed by hand (an export, a pool, a call's label). */
const MAX_BASE_CHARS = 256;

/**
 * How each field of a `submits` base (TaskSpec without id and args) is packed: in the order the
 * client builds a spec (coordinator/api/task-call.ts), which is the order msgpackr writes its keys
 * in. Only the forms of a plain submit (hot-messages.ts isPlainSubmits); the reader hands what it
 * read to that check. test/unit/service-frames.test.ts ties these keys to TaskSpec's schema.
 */
type Kind = 'code' | 'string?' | 'number' | 'number?' | 'boolean' | 'null' | 'empty' | 'call';
export const BASE_FIELDS: readonly (readonly [string, Kind])[] = [
  ['code', 'code'],
  ['export', 'string?'],
  ['refs', 'empty'],
  ['keep', 'null'],
  ['inline', 'boolean'],
  ['chunk', 'boolean'],
  ['timeoutMs', 'number?'],
  ['retries', 'number'],
  ['retryExceptions', 'number'],
  ['priority', 'number'],
  ['weight', 'number'],
  ['group', 'string?'],
  ['resources', 'null'],
];
/** The optional fields of a base, set after the others (task-call.ts), in this order. */
export const OPTIONAL_BASE_FIELDS: readonly (readonly [string, Kind])[] = [
  ['pool', 'string?'],
  ['call', 'call'],
];

/** A record definition at another id than a frame's first (a nested record, defined at its first use). */
function definitionAt(id: number, keys: readonly string[]): Buffer {
  const d = recordDefinition(keys);
  d[2] = id;
  return d;
}

// A submits frame's records, in the order msgpackr meets them: the message, its base, the base's call.
const SUBMITS_RECORD = recordDefinition(['type', 'base', 'ids', 'tasks', 'args']);
const SUBMITS_TYPE = fixString('submits');
const BASE_ID = RECORD_ID + 1;
const CALL_ID = RECORD_ID + 2;
const CALL_DEFINITION = definitionAt(CALL_ID, ['id', 'label']);

/** One key set a base may have: the plain fields, with or without each optional one. */
interface BaseShape {
  readonly fields: readonly (readonly [string, Kind])[];
  readonly definition: Buffer;
  readonly hasCall: boolean;
}

const BASE_SHAPES: readonly BaseShape[] = [[], [0], [1], [0, 1]].map((optional) => {
  const fields = [...BASE_FIELDS, ...optional.map((i) => OPTIONAL_BASE_FIELDS[i]!)];
  return { fields, definition: definitionAt(BASE_ID, fields.map(([key]) => key)), hasCall: optional.includes(1) };
});

function baseShape(base: Record<string, unknown>): BaseShape | null {
  const pool = Object.hasOwn(base, 'pool');
  const call = Object.hasOwn(base, 'call');
  const shape = BASE_SHAPES[(pool ? 1 : 0) + (call ? 2 : 0)]!;
  return keyCount(base) === shape.fields.length ? shape : null;
}

function shortString(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length <= max;
}

/** A non-negative number: what FrameReader.num reads back (msgpackr writes other numbers otherwise). */
function readableNumber(v: unknown): v is number {
  return typeof v === 'number' && v >= 0 && v <= Number.MAX_VALUE;
}

function writable(kind: Kind, v: unknown): boolean {
  switch (kind) {
    case 'code':
      return shortString(v, MAX_ID_CHARS);
    case 'string?':
      return v === null || shortString(v, MAX_BASE_CHARS);
    case 'number':
      return readableNumber(v);
    case 'number?':
      return v === null || readableNumber(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'null':
      return v === null;
    case 'empty':
      return Array.isArray(v) && v.length === 0;
    case 'call': {
      if (typeof v !== 'object' || v === null || Object.getPrototypeOf(v) !== Object.prototype || keyCount(v) !== 2) return false;
      const { id, label } = v as { id?: unknown; label?: unknown };
      return shortString(id, MAX_BASE_CHARS) && shortString(label, MAX_BASE_CHARS);
    }
  }
}

/** Bytes a field may take (3 × characters for a string, + 9 per value). */
function fieldSize(kind: Kind, v: unknown): number {
  if (typeof v === 'string') return 3 + 3 * v.length;
  if (kind === 'call') {
    const call = v as { id: string; label: string };
    return CALL_DEFINITION.length + 6 + 3 * (call.id.length + call.label.length);
  }
  return 9;
}

/** The columns' bytes when `m` is a `submits` message packable by hand with `shape`'s base; -1 otherwise. */
function submitsSize(m: object, shape: BaseShape): number {
  const s = m as Partial<Record<keyof Submits, unknown>>;
  if (s.type !== 'submits' || keyCount(m) !== 5) return -1;
  const { base, ids, tasks, args } = s;
  if (typeof base !== 'object' || base === null || Object.getPrototypeOf(base) !== Object.prototype) return -1;
  if (baseShape(base as Record<string, unknown>) !== shape) return -1;
  if (!Array.isArray(ids) || !Array.isArray(tasks) || !Array.isArray(args)) return -1;
  const n = ids.length;
  if (n === 0 || n > MAX_BATCH || tasks.length !== n || args.length !== n) return -1;
  let size = shape.definition.length + 9;
  for (const [key, kind] of shape.fields) {
    const v = (base as Record<string, unknown>)[key];
    if (!writable(kind, v)) return -1;
    size += fieldSize(kind, v);
  }
  for (let i = 0; i < n; i++) {
    const id: unknown = ids[i];
    const task: unknown = tasks[i];
    const a: unknown = args[i];
    if (!shortString(id, MAX_ID_CHARS) || !shortString(task, MAX_ID_CHARS) || !(a instanceof Uint8Array) || a.byteLength > MAX_HAND_BYTES) return -1;
    size += 9 + 3 * (id.length + task.length) + a.byteLength;
  }
  return size;
}

function writeField(w: FrameWriter, kind: Kind, v: unknown, first: boolean): void {
  if (v === null) return w.nil();
  switch (kind) {
    case 'code':
      return w.repeated(v as string);
    case 'string?':
      return w.str(v as string);
    case 'number':
    case 'number?':
      return w.num(v as number);
    case 'boolean':
      return w.bool(v as boolean);
    case 'empty':
      return w.array(0);
    case 'call': {
      const call = v as { id: string; label: string };
      if (first) w.raw(CALL_DEFINITION);
      else w.b[w.p++] = CALL_ID;
      w.str(call.id);
      w.str(call.label);
      return;
    }
    case 'null':
      return w.nil();
  }
}

/** Packs a frame of `submits` messages as the envelope would; null when `messages` is anything else. */
export function packSubmitsFrame(messages: readonly object[]): Buffer | null {
  const n = messages.length;
  if (n === 0 || n > MAX_FRAME_MESSAGES) return null;
  const first = messages[0] as { type?: unknown; base?: unknown };
  if (first.type !== 'submits' || typeof first.base !== 'object' || first.base === null) return null;
  const shape = baseShape(first.base as Record<string, unknown>);
  if (shape === null) return null;
  let size = 0;
  for (let i = 0; i < n; i++) {
    const s = submitsSize(messages[i]!, shape);
    if (s < 0) return null;
    size += 1 + SUBMITS_TYPE.length + s;
  }
  const w = new FrameWriter(size, n, SUBMITS_RECORD);
  for (let i = 0; i < n; i++) {
    const { base, ids, tasks, args } = messages[i] as Submits;
    w.record(i);
    w.raw(SUBMITS_TYPE);
    if (i === 0) w.raw(shape.definition);
    else w.b[w.p++] = BASE_ID;
    const fields = base as unknown as Record<string, unknown>;
    for (const [key, kind] of shape.fields) writeField(w, kind, fields[key], i === 0);
    const count = ids.length;
    w.array(count);
    for (let k = 0; k < count; k++) w.str(ids[k]!);
    w.array(count);
    for (let k = 0; k < count; k++) w.str(tasks[k]!);
    w.array(count);
    for (let k = 0; k < count; k++) w.bin(args[k]!);
  }
  return w.done();
}

/** A field as writeField wrote it (its form only: the values are checked by isPlainSubmits). */
function readField(r: FrameReader, kind: Kind, first: boolean): unknown {
  if (r.nil()) return null;
  switch (kind) {
    case 'code':
      return r.repeated();
    case 'string?':
      return r.str();
    case 'number':
    case 'number?':
      return r.num();
    case 'boolean':
      return r.bool();
    case 'empty':
      r.empty();
      return [];
    case 'call': {
      if (!(first ? r.take(CALL_DEFINITION) : r.take(CALL_REFERENCE))) r.bad = true;
      const id = r.str();
      const label = r.str();
      return { id, label };
    }
    case 'null':
      r.bad = true; // not a nil: another value
      return null;
  }
}

const BASE_REFERENCE = Buffer.from([BASE_ID]);
const CALL_REFERENCE = Buffer.from([CALL_ID]);

/** A column of `n` ids (n from the first column: -1 reads its length), or null. */
function readIds(r: FrameReader, n: number): string[] | null {
  const count = r.array();
  if (count < 1 || count > MAX_BATCH || (n >= 0 && count !== n)) return null;
  const ids = new Array<string>(count);
  for (let i = 0; i < count; i++) {
    const id = r.str();
    if (!isId(id)) return null;
    ids[i] = id;
  }
  return ids;
}

/**
 * Reads a frame of `submits` messages (as {@link packSubmitsFrame} or msgpackr wrote it), each
 * checked as the `Submits` schema would; null when the frame is anything else. Args view `data`.
 */
export function unpackSubmitsFrame(data: Uint8Array): Submits[] | null {
  const r = new FrameReader(data, SUBMITS_RECORD);
  const n = r.count;
  if (n === 0) return null;
  const messages = new Array<Submits>(n);
  let shape: BaseShape | undefined;
  for (let i = 0; i < n; i++) {
    r.record(i);
    r.expect(SUBMITS_TYPE);
    if (i === 0) shape = BASE_SHAPES.find((s) => r.take(s.definition));
    else if (!r.take(BASE_REFERENCE)) return null;
    if (shape === undefined) return null;
    const base: Record<string, unknown> = {};
    for (const [key, kind] of shape.fields) base[key] = readField(r, kind, i === 0);
    const ids = readIds(r, -1);
    const tasks = ids && readIds(r, ids.length);
    if (tasks === null || r.bad || r.array() !== tasks.length) return null;
    const args = new Array<Uint8Array>(tasks.length);
    for (let k = 0; k < args.length; k++) args[k] = r.bin();
    if (r.bad) return null;
    // Every id and arg was checked as it was read; the base, and the message's form, by the one
    // check the generic path runs too, on the message cut to its first task.
    const m = { type: 'submits', base, ids, tasks, args } as Submits;
    if (!isPlainSubmits({ type: 'submits', base, ids: [ids![0]], tasks: [tasks[0]], args: [args[0]] })) return null;
    messages[i] = m;
  }
  return r.ok ? messages : null;
}

// ---- results ---------------------------------------------------------------------------------

const RESULTS: FrameShape<Results> = {
  definition: recordDefinition(['type', 'ids', 'values']),
  type: fixString('results'),
  plain: (m): m is Results => {
    const { type, ids, values } = m as Partial<Record<keyof Results, unknown>>;
    if (type !== 'results' || keyCount(m) !== 3 || !Array.isArray(ids) || !Array.isArray(values)) return false;
    const n = ids.length;
    if (n === 0 || n > MAX_BATCH || values.length !== n) return false;
    for (let i = 0; i < n; i++) {
      const v: unknown = values[i];
      if (!shortString(ids[i], MAX_ID_CHARS) || !(v instanceof Uint8Array) || v.byteLength > MAX_HAND_BYTES) return false;
    }
    return true;
  },
  size: (m) => {
    let size = 6;
    for (let i = 0; i < m.ids.length; i++) size += 6 + 3 * m.ids[i]!.length + m.values[i]!.byteLength;
    return size;
  },
  write: (w, m) => {
    const n = m.ids.length;
    w.array(n);
    for (let i = 0; i < n; i++) w.str(m.ids[i]!);
    w.array(n);
    for (let i = 0; i < n; i++) w.bin(m.values[i]!);
  },
};

/** Packs a frame of `results` messages as the envelope would; null when `messages` is anything else. */
export function packResultsFrame(messages: readonly object[]): Buffer | null {
  return writeFrame(messages, RESULTS);
}

function readResults(r: FrameReader): Results | null {
  const ids = readIds(r, -1);
  if (ids === null || r.array() !== ids.length) return null;
  const values = new Array<Uint8Array>(ids.length);
  for (let i = 0; i < values.length; i++) values[i] = r.bin();
  return { type: 'results', ids, values };
}

/**
 * Reads a frame of `results` messages (as {@link packResultsFrame} or msgpackr wrote it), each
 * checked as the `Results` schema would; null when the frame is anything else. Values view `data`.
 */
export function unpackResultsFrame(data: Uint8Array): Results[] | null {
  return readFrame(data, RESULTS.definition, RESULTS.type, readResults);
}
