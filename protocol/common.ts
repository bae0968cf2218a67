import { z } from 'zod';
import { MAX_CAUSE_DEPTH } from './version.js';

/** Opaque msgpack bytes of user values: validated as bytes here, decoded only where they are used. */
export const Bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'expected binary bytes' });

export const Id = z.string().min(1).max(128);

/** An exception as it crosses the wire: enough to rebuild a typed error with the remote stack. */
export interface RemoteErrorInfo {
  name: string;
  message: string;
  stack?: string | undefined;
  code?: string | undefined;
  /** A value that could not travel: where in it (`result.handlers[0]`), and what to do instead. */
  path?: string | undefined;
  hint?: string | undefined;
  cause?: RemoteErrorInfo | undefined;
}

// Beside the other wire limits: the agent packs errors with it before it loads any schema.
export { MAX_CAUSE_DEPTH };

const RemoteErrorInfoShape: z.ZodType<RemoteErrorInfo> = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  code: z.string().optional(),
  path: z.string().max(4096).optional(),
  hint: z.string().max(4096).optional(),
  get cause(): z.ZodOptional<z.ZodType<RemoteErrorInfo>> {
    return RemoteErrorInfoShape.optional();
  },
});

/** Depth of a cause chain, counted without recursion (a forged chain may be thousands deep). */
function causeDepth(value: unknown): number {
  let depth = 0;
  let at: unknown = value;
  while (typeof at === 'object' && at !== null && depth <= MAX_CAUSE_DEPTH) {
    at = (at as { cause?: unknown }).cause;
    depth++;
  }
  return depth;
}

// The depth is checked first, iteratively: the recursive shape would overflow the stack on a
// chain thousands deep before any of its own checks ran.
export const RemoteErrorInfo: z.ZodType<RemoteErrorInfo> = z
  .custom<unknown>((v) => causeDepth(v) <= MAX_CAUSE_DEPTH, { message: `an error's cause chain may be at most ${MAX_CAUSE_DEPTH} deep` })
  .pipe(RemoteErrorInfoShape);

/**
 * Why an attempt failed on the agent; only `exception` is the user's own error. `value`: the
 * result could not travel (not serializable, or too large; `error.code` says which).
 */
export const FailureKind = z.enum(['exception', 'timeout', 'cancelled', 'setup', 'actor-died', 'value']);
export type FailureKind = z.infer<typeof FailureKind>;
