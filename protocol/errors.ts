/**
 * Every error code clustrix raises, stable and documented in README's table. Each has exactly one
 * class (coordinator/error-registry.ts maps them, and fails the build when one is missing).
 */
export const ERROR_CODES = [
  'REMOTE_ERROR',
  'TASK_TIMEOUT',
  'CANCELLED',
  'AGENT_LOST',
  'ACTOR_DIED',
  'ACTOR_NAME_TAKEN',
  'CLOSURE_CAPTURE',
  'FUNCTION_NOT_SHIPPABLE',
  'MODULE_BUNDLE_FAILED',
  'MODULE_DEPENDENCY_UNAVAILABLE',
  'ARGS_NOT_SERIALIZABLE',
  'RESULT_NOT_SERIALIZABLE',
  'RESULT_DECODE_FAILED',
  'VALUE_TOO_LARGE',
  'TASK_SETUP_FAILED',
  'CONFIG_INVALID',
  'AUTH_FAILED',
  'PROTOCOL_ERROR',
  'PROTOCOL_VERSION_MISMATCH',
  'JOB_FAILED_TO_START',
  'JOB_REJECTED',
  'SCHEDULER_COMMAND_FAILED',
  'COMMAND_TIMEOUT',
  'TUNNEL_FAILED',
  'CLUSTER_CLOSED',
  'SERVICE_LOST',
  'POOL_UNAVAILABLE',
  'RESOURCES_UNSATISFIABLE',
  'POOL_UNKNOWN',
  'OBJECT_LOST',
  'OBJECT_STORE_FULL',
  'RESULTS_EXPIRED',
  'SSH_DNS',
  'SSH_REFUSED',
  'SSH_UNREACHABLE',
  'SSH_TIMEOUT',
  'SSH_AUTH',
  'SSH_HOST_KEY_UNKNOWN',
  'SSH_HOST_KEY_CHANGED',
  'SSH_HOST_KEY_REVOKED',
  'SSH_CLOSED',
  'SSH_EXEC',
  'SSH_SFTP',
  'SSH_FORWARD',
  'SSH_CONFIG',
] as const;

/** The `code` of a {@link ClustrixError}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Base of every error clustrix raises. `code` is stable and documented in README; `hint` says what
 * to do about it.
 */
export class ClustrixError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; hint?: string }) {
    super(options?.hint ? `${message}\n  hint: ${options.hint}` : message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClustrixError';
    this.code = code;
    this.hint = options?.hint;
  }
}

/** A frame that does not decode or validate, or a peer that speaks another protocol version. */
export class ProtocolError extends ClustrixError {
  /** The WebSocket close code the connection is closed with. */
  readonly closeCode: number;

  constructor(message: string, closeCode: number, options?: { cause?: unknown; hint?: string; code?: 'PROTOCOL_ERROR' | 'PROTOCOL_VERSION_MISMATCH' }) {
    super(options?.code ?? 'PROTOCOL_ERROR', message, options);
    this.name = 'ProtocolError';
    this.closeCode = closeCode;
  }
}
