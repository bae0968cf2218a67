import { unpackValue } from '../protocol/values.js';
import { packResult } from './pack-result.js';
import type { CodeCache } from './task-code.js';

/** Runs one task (or one chunk of calls) and packs its result. Shared by worker threads and inline tasks. */
export async function executeTask(
  cache: CodeCache,
  hash: string,
  exportName: string | null,
  args: Uint8Array,
  chunk: boolean,
): Promise<Uint8Array> {
  const fn = await cache.resolve(hash, exportName);
  const decoded = unpackValue(args);
  if (!Array.isArray(decoded)) throw new TypeError('task arguments must be a list');
  if (!chunk) return packResult(await fn(...(decoded as unknown[])));
  const results: unknown[] = new Array(decoded.length);
  for (let i = 0; i < decoded.length; i++) results[i] = await fn(...(decoded[i] as unknown[]));
  return packResult(results, true);
}
