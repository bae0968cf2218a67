import { resolveTopLevel, unpackArgs, type DepBytes } from './objects/task-refs.js';
import { packResult, type PackedResult } from './pack-result.js';
import type { CodeCache } from './task-code.js';

const NO_DEPS: DepBytes = new Map();

/**
 * Runs one task (or one chunk of calls) and packs its result. Shared by worker threads and inline
 * tasks. A top-level ref argument arrives as its value (`deps` holds the bytes); nested refs stay
 * refs the task can await (read then, through the task's id). `viewUpTo`: as packValue's.
 */
export async function executeTask(
  id: string,
  cache: CodeCache,
  hash: string,
  exportName: string | null,
  args: Uint8Array,
  chunk: boolean,
  deps: DepBytes = NO_DEPS,
  viewUpTo = 0,
): Promise<PackedResult> {
  // A shipped function is there at once: no await, no promise of its own.
  const fn = cache.compiled(hash) ?? (await cache.resolve(hash, exportName));
  // The argument bytes came for this call alone (the agent keeps no copy).
  const decoded = unpackArgs(args, deps, true, id);
  if (!Array.isArray(decoded)) throw new TypeError('task arguments must be a list');
  if (!chunk) return packResult(await fn(...resolveTopLevel(decoded as unknown[])), false, viewUpTo);
  const results: unknown[] = new Array(decoded.length);
  for (let i = 0; i < decoded.length; i++) results[i] = await fn(...resolveTopLevel(decoded[i] as unknown[]));
  return packResult(results, true, viewUpTo);
}
