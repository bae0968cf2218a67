import { z } from 'zod';

/** Opaque msgpack bytes of user values: validated as bytes here, decoded only where they are used. */
export const Bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, { message: 'expected binary bytes' });

export const Id = z.string().min(1).max(128);

/** An exception as it crosses the wire: enough to rebuild a typed error with the remote stack. */
export interface RemoteErrorInfo {
  name: string;
  message: string;
  stack?: string | undefined;
  code?: string | undefined;
  cause?: RemoteErrorInfo | undefined;
}

export const RemoteErrorInfo: z.ZodType<RemoteErrorInfo> = z.object({
  name: z.string(),
  message: z.string(),
  stack: z.string().optional(),
  code: z.string().optional(),
  get cause(): z.ZodOptional<z.ZodType<RemoteErrorInfo>> {
    return RemoteErrorInfo.optional();
  },
});

/**
 * Why an attempt failed on the agent; only `exception` is the user's own error. `value`: the
 * result could not travel (not serializable, or too large; `error.code` says which).
 */
export const FailureKind = z.enum(['exception', 'timeout', 'cancelled', 'setup', 'actor-died', 'value']);
export type FailureKind = z.infer<typeof FailureKind>;
