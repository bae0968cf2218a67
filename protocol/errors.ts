/**
 * Base of every error clustrix raises. `code` is stable and documented in README; `hint` says what
 * to do about it.
 */
export class ClustrixError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options?: { cause?: unknown; hint?: string }) {
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

  constructor(message: string, closeCode: number, options?: { cause?: unknown; hint?: string; code?: string }) {
    super(options?.code ?? 'PROTOCOL_ERROR', message, options);
    this.name = 'ProtocolError';
    this.closeCode = closeCode;
  }
}
