/**
 * Hand-written checks for the messages of every task (a coordinator's `task`, an agent's `done`):
 * one each per task of a trivial map, where zod's generic walk was a measurable share of the time
 * and allocations of both ends. Each check answers true only for a value its zod schema accepts unchanged (the
 * same keys, nothing stripped or coerced); anything else goes to the schema, which decides and
 * words the error. test/unit/hot-messages.test.ts runs both on fuzzed inputs.
 */
import { MAX_TIMER_MS } from './durations.js';

/** What a check takes: a message as msgpack decoded it. */
export type HotCheck = (item: unknown) => boolean;

/** `Id`: a string of 1 to 128 characters. */
function isId(v: unknown): boolean {
  return typeof v === 'string' && v.length >= 1 && v.length <= 128;
}

/** Own enumerable keys, counted without allocating (an extra key is stripped by zod: not ours to pass). */
function keyCount(o: object): number {
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

/** The checks of the messages an agent sends, by type. */
export const AGENT_HOT_CHECKS: ReadonlyMap<string, HotCheck> = new Map([['done', isPlainDone]]);

/**
 * `Task` of coordinator-messages.ts in its common form: no keep, no deps, no gpus (any of those,
 * and anything odd, goes to the schema).
 */
export const isPlainTask: HotCheck = (item) => {
  if (!plainObject(item)) return false;
  const { timeoutMs, express } = item;
  const keys = keyCount(item);
  return (
    item.type === 'task' &&
    isId(item.id) &&
    isId(item.code) &&
    (item.export === null || typeof item.export === 'string') &&
    item.args instanceof Uint8Array &&
    typeof item.inline === 'boolean' &&
    typeof item.chunk === 'boolean' &&
    (timeoutMs === null || (Number.isInteger(timeoutMs) && (timeoutMs as number) > 0 && (timeoutMs as number) <= MAX_TIMER_MS)) &&
    item.keep === null &&
    Array.isArray(item.deps) &&
    item.deps.length === 0 &&
    Object.getPrototypeOf(item.deps) === Array.prototype &&
    keyCount(item.deps) === 0 &&
    (Object.hasOwn(item, 'express') ? typeof express === 'boolean' && keys === 11 : keys === 10)
  );
};

/** The checks of the messages a coordinator sends, by type. */
export const COORDINATOR_HOT_CHECKS: ReadonlyMap<string, HotCheck> = new Map([['task', isPlainTask]]);
