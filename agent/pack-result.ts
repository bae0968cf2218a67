import type { FailureKind, RemoteErrorInfo } from '../protocol/common.js';
import { collectingRefs } from '../protocol/object-ref.js';
import { findUnsendable } from '../protocol/sendable.js';
import { packValue } from '../protocol/values.js';

/**
 * A task's or actor call's result that cannot travel back; the coordinator turns it into
 * ResultNotSerializableError with the same path and hint (see failureKind).
 */
export class UnsendableResult extends Error {
  readonly code = 'RESULT_NOT_SERIALIZABLE';
  constructor(
    message: string,
    readonly path: string,
    readonly hint: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ResultNotSerializableError';
  }
}

/** A packed result and the ids of the refs inside it (they live while it does). */
export interface PackedResult {
  value: Uint8Array;
  refs: string[];
}

/**
 * Packs a result, refusing (with the path) what msgpack would silently change or cannot carry.
 * `chunk`: the value is the list of results of a chunk of map items, each checked as `result`.
 * `viewUpTo`: as packValue's (small packed bytes may view msgpackr's buffer).
 */
export function packResult(value: unknown, chunk = false, viewUpTo = 0): PackedResult {
  // A number always travels, and holds no ref (most trivial tasks' results).
  if (typeof value === 'number' && !chunk) return { value: packValue(value, viewUpTo), refs: [] };
  const items = chunk ? (value as unknown[]) : [value];
  for (let i = 0; i < items.length; i++) {
    const bad = findUnsendable(items[i], 'result');
    if (bad) {
      const which = chunk ? ` (the result of item ${i} of a chunk of ${items.length})` : '';
      throw new UnsendableResult(`the result cannot travel back${which}: ${bad.path} is ${bad.what}`, bad.path, bad.hint);
    }
  }
  try {
    return collectingRefs(() => packValue(value, viewUpTo));
  } catch (cause) {
    throw new UnsendableResult(`the result cannot be serialized: ${(cause as Error).message}`, 'result', undefined, { cause });
  }
}

/** `value` for a result that could not travel, `exception` for the user's own error. */
export function failureKind(error: RemoteErrorInfo): FailureKind {
  return error.code === 'RESULT_NOT_SERIALIZABLE' && error.name === 'ResultNotSerializableError' ? 'value' : 'exception';
}
