/**
 * Hand-written checks for the messages of every task (a coordinator's `task`, an agent's `done`):
 * one each per task of a trivial map, where zod's generic walk was a measurable share of the time
 * and allocations of both ends. Each check answers true only for a value its zod schema accepts unchanged (the
 * same keys, nothing stripped or coerced); anything else goes to the schema, which decides and
 * words the error. test/unit/hot-messages.test.ts runs both on fuzzed inputs.
 */
import { MAX_TIMER_MS } from './durations.js';
import { MAX_BATCH } from './version.js';

/** What a check takes: a message as msgpack decoded it. */
export type HotCheck = (item: unknown) => boolean;

/** `Id`: a string of 1 to 128 characters. */
export function isId(v: unknown): v is string {
  return typeof v === 'string' && v.length >= 1 && v.length <= 128;
}

/** Own enumerable keys, counted without allocating (an extra key is stripped by zod: not ours to pass). */
export function keyCount(o: object): number {
  let n = 0;
  for (const key in o) if (Object.hasOwn(o, key)) n++;
  return n;
}

function plainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

/** `Done` of agent-messages.ts: `{ type: 'done', id, value: bytes, runMs >= 0 }`. */
export const isPlainDone: HotCheck = (item) => {
  if (!plainObject(item)) return false;
  const runMs = item.runMs;
  return (
    item.type === 'done' &&
    isId(item.id) &&
    item.value instanceof Uint8Array &&
    typeof runMs === 'number' &&
    Number.isFinite(runMs) &&
    runMs >= 0 &&
    keyCount(item) === 4
  );
};

/** `ObjectId` of object-messages.ts. */
const OBJECT_ID = /^[A-Za-z0-9_-]{1,128}$/;

function isObjectId(v: unknown): boolean {
  return typeof v === 'string' && OBJECT_ID.test(v);
}

function objectIds(v: unknown): boolean {
  if (!plainArray(v) || v.length > 65_536) return false;
  for (let i = 0; i < v.length; i++) if (!isObjectId(v[i])) return false;
  return true;
}

/**
 * `Kept` of object-messages.ts: `{ type: 'kept', id, objectId, size, value: bytes | null, refs, runMs }`
 * (one per step of a chain of dependent tasks).
 */
export const isPlainKept: HotCheck = (item) => {
  if (!plainObject(item)) return false;
  const { size, runMs, value } = item;
  return (
    item.type === 'kept' &&
    isId(item.id) &&
    isObjectId(item.objectId) &&
    Number.isSafeInteger(size) &&
    (size as number) >= 0 &&
    (value === null || value instanceof Uint8Array) &&
    objectIds(item.refs) &&
    typeof runMs === 'number' &&
    Number.isFinite(runMs) &&
    runMs >= 0 &&
    keyCount(item) === 7
  );
};

/** The checks of the messages an agent sends, by type. */
export const AGENT_HOT_CHECKS: ReadonlyMap<string, HotCheck> = new Map([
  ['done', isPlainDone],
  ['kept', isPlainKept],
]);

/** `Dep` of object-messages.ts: `{ objectId, from: [address, ...], lazy? }`. */
function isPlainDep(v: unknown): boolean {
  if (!plainObject(v) || !isObjectId(v.objectId)) return false;
  const { from, lazy } = v;
  if (!plainArray(from) || from.length > 64) return false;
  for (let i = 0; i < from.length; i++) {
    const a = from[i];
    if (!(typeof a === 'string' && a.length >= 3 && a.length <= 300)) return false;
  }
  return Object.hasOwn(v, 'lazy') ? typeof lazy === 'boolean' && keyCount(v) === 3 : keyCount(v) === 2;
}

function plainDeps(v: unknown): boolean {
  if (!plainArray(v) || v.length > 65_536) return false;
  for (let i = 0; i < v.length; i++) if (!isPlainDep(v[i])) return false;
  return true;
}

/** A task's `timeoutMs`: null, or whole milliseconds a timer can wait. */
export function isTaskTimeout(v: unknown): v is number | null {
  return v === null || (Number.isInteger(v) && (v as number) > 0 && (v as number) <= MAX_TIMER_MS);
}

/**
 * `Task` of coordinator-messages.ts in its common forms: plain, or keeping its result, with deps,
 * parked (a chain's steps); no gpus (that, and anything odd, goes to the schema).
 */
export const isPlainTask: HotCheck = (item) => {
  if (!plainObject(item)) return false;
  const { timeoutMs, express, parked } = item;
  let keys = keyCount(item);
  if (Object.hasOwn(item, 'parked')) {
    if (parked !== true) return false;
    keys--;
  }
  return (
    item.type === 'task' &&
    isId(item.id) &&
    isId(item.code) &&
    (item.export === null || typeof item.export === 'string') &&
    item.args instanceof Uint8Array &&
    typeof item.inline === 'boolean' &&
    typeof item.chunk === 'boolean' &&
    isTaskTimeout(timeoutMs) &&
    (item.keep === null || isObjectId(item.keep)) &&
    plainDeps(item.deps) &&
    (Object.hasOwn(item, 'express') ? typeof express === 'boolean' && keys === 11 : keys === 10)
  );
};

/** The checks of the messages a coordinator sends, by type. */
export const COORDINATOR_HOT_CHECKS: ReadonlyMap<string, HotCheck> = new Map([['task', isPlainTask]]);

// ---- client ↔ service: one request and one response per task of a connected map ----------------

/** An array as msgpack makes one: dense, no extra keys, the plain prototype. */
function plainArray(v: unknown): v is unknown[] {
  return Array.isArray(v) && Object.getPrototypeOf(v) === Array.prototype && keyCount(v) === v.length;
}

/** `Request` of service-messages.ts: `{ type: 'request', id, method, args: [...] }` (args checked per method). */
export const isPlainRequest: HotCheck = (item) => {
  if (!plainObject(item)) return false;
  const method = item.method;
  return item.type === 'request' && isId(item.id) && typeof method === 'string' && method.length >= 1 && method.length <= 64 && plainArray(item.args) && keyCount(item) === 4;
};

/** The checks of the messages a client sends, by type. */
export const CLIENT_HOT_CHECKS: ReadonlyMap<string, HotCheck> = new Map([
  ['request', isPlainRequest],
  ['submits', (item) => isPlainSubmits(item)],
]);

/** `Response` of service-messages.ts when it succeeded: `{ type: 'response', id, ok: true, value }`. */
export const isPlainResponse: HotCheck = (item) => {
  if (!plainObject(item)) return false;
  return item.type === 'response' && item.ok === true && isId(item.id) && Object.hasOwn(item, 'value') && keyCount(item) === 4;
};

/** The checks of the messages a service sends, by type. */
export const SERVICE_HOT_CHECKS: ReadonlyMap<string, HotCheck> = new Map([
  ['response', isPlainResponse],
  ['results', (item) => isPlainResults(item)],
]);

function isCount(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}

/**
 * `TaskSpec` of core-methods.ts in its common form: no refs, no keep, no resources (any of those,
 * and anything odd, goes to the schema). `own`: with its `id` and `args` (a `submits` message's
 * `base` has neither).
 */
function plainSpec(item: unknown, own: boolean): boolean {
  if (!plainObject(item)) return false;
  const { timeoutMs, weight, group, refs } = item;
  let keys = own ? 15 : 13;
  if (own && !(isId(item.id) && item.args instanceof Uint8Array)) return false;
  if (Object.hasOwn(item, 'pool')) {
    const pool = item.pool;
    if (!(pool === null || (typeof pool === 'string' && pool.length >= 1 && pool.length <= 64))) return false;
    keys++;
  }
  if (Object.hasOwn(item, 'call')) {
    const call = item.call;
    if (!plainObject(call) || keyCount(call) !== 2) return false;
    const { id, label } = call;
    if (!(typeof id === 'string' && id.length >= 1 && id.length <= 200 && typeof label === 'string' && label.length <= 200)) return false;
    keys++;
  }
  return (
    isId(item.code) &&
    (item.export === null || typeof item.export === 'string') &&
    typeof item.inline === 'boolean' &&
    typeof item.chunk === 'boolean' &&
    (timeoutMs === null || (Number.isSafeInteger(timeoutMs) && (timeoutMs as number) > 0 && (timeoutMs as number) <= MAX_TIMER_MS)) &&
    item.keep === null &&
    plainArray(refs) &&
    refs.length === 0 &&
    isCount(item.retries) &&
    isCount(item.retryExceptions) &&
    Number.isFinite(item.priority) &&
    typeof weight === 'number' &&
    weight > 0 &&
    weight <= 1e6 &&
    (group === null || isId(group)) &&
    item.resources === null &&
    keyCount(item) === keys
  );
}

export const isPlainTaskSpec: HotCheck = (item) => plainSpec(item, true);

/** A column of 1 to MAX_BATCH ids (`length`: exactly that many). */
function idColumn(v: unknown, length?: number): v is string[] {
  if (!plainArray(v) || v.length > MAX_BATCH || (length === undefined ? v.length === 0 : v.length !== length)) return false;
  for (let i = 0; i < v.length; i++) if (!isId(v[i])) return false;
  return true;
}

function bytesColumn(v: unknown, length: number): boolean {
  if (!plainArray(v) || v.length !== length) return false;
  for (let i = 0; i < v.length; i++) if (!(v[i] instanceof Uint8Array)) return false;
  return true;
}

/** `Submits` of service-messages.ts: a map's submits as columns, its base in the common form. */
export const isPlainSubmits: HotCheck = (item) => {
  if (!plainObject(item) || item.type !== 'submits' || keyCount(item) !== 5 || !idColumn(item.ids)) return false;
  const n = item.ids.length;
  return idColumn(item.tasks, n) && bytesColumn(item.args, n) && plainSpec(item.base, false);
};

/** `Results` of service-messages.ts: a map's results as columns. */
export const isPlainResults: HotCheck = (item) => plainObject(item) && item.type === 'results' && keyCount(item) === 3 && idColumn(item.ids) && bytesColumn(item.values, item.ids.length);

/** `submit`'s argument list: `[TaskSpec]`. */
export const isPlainSubmitArgs: HotCheck = (args) => plainArray(args) && args.length === 1 && isPlainTaskSpec(args[0]);

/** Hand checks of the argument lists of the hottest core methods, by method (the rest go to their schemas). */
export const HOT_METHOD_ARGS: ReadonlyMap<string, HotCheck> = new Map([['submit', isPlainSubmitArgs]]);
