import { collectingRefs } from '../protocol/object-ref.js';
import { packValue } from '../protocol/values.js';
import { resolveTopLevel, unpackArgs, type DepBytes } from './objects/task-refs.js';
import type { CodeCache } from './task-code.js';

/** A packed result and the ids of the refs inside it (they live while it does). */
export interface PackedResult {
  value: Uint8Array;
  refs: string[];
}

const NO_DEPS: DepBytes = new Map();

/**
 * Runs one task (or one chunk of calls) and packs its result. Shared by worker threads and inline
 * tasks. A top-level ref argument arrives as its value (`deps` holds the bytes); nested refs stay
 * refs the task can await.
 */
export async function executeTask(
  cache: CodeCache,
  hash: string,
  exportName: string | null,
  args: Uint8Array,
  chunk: boolean,
  deps: DepBytes = NO_DEPS,
): Promise<PackedResult> {
  const fn = await cache.resolve(hash, exportName);
  const decoded = unpackArgs(args, deps);
  if (!Array.isArray(decoded)) throw new TypeError('task arguments must be a list');
  if (!chunk) return packResult(await fn(...resolveTopLevel(decoded as unknown[])));
  const results: unknown[] = new Array(decoded.length);
  for (let i = 0; i < decoded.length; i++) results[i] = await fn(...resolveTopLevel(decoded[i] as unknown[]));
  return packResult(results);
}

function packResult(value: unknown): PackedResult {
  try {
    return collectingRefs(() => packValue(value));
  } catch (cause) {
    throw Object.assign(new TypeError(`the task's result cannot be serialized: ${(cause as Error).message}`), { code: 'RESULT_NOT_SERIALIZABLE', cause });
  }
}
