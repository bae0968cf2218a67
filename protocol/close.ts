/**
 * What clustrix needs of a WebSocket (ws's satisfies it). Spelled out here, not imported from ws,
 * so the published .d.ts files compile without @types/ws.
 */
export interface WireSocket {
  binaryType: string;
  readonly readyState: number;
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): unknown;
  on(event: 'close', listener: (code: number, reason: Buffer) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
}

/** RFC 6455 allows 123 bytes of reason in a close frame (125 of payload less the 2-byte code). */
export const MAX_CLOSE_REASON_BYTES = 123;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * `reason` cut to at most 123 UTF-8 bytes, on a character boundary. ws throws a RangeError for a
 * longer reason, and reasons often quote what a peer sent (multi-byte text counts 2-4 bytes a
 * character), so every close goes through here.
 */
export function closeReason(reason: string): string {
  if (reason.length * 3 <= MAX_CLOSE_REASON_BYTES) return reason;
  const out = new Uint8Array(MAX_CLOSE_REASON_BYTES);
  // encodeInto writes whole characters only, so the cut never splits one.
  const { written } = encoder.encodeInto(reason, out);
  return decoder.decode(out.subarray(0, written));
}

/**
 * Closes `ws` with `code` and a cut reason; never throws. A peer that ignores the closing
 * handshake is cut off after `lingerMs`.
 */
export function closeSocket(ws: WireSocket, code: number, reason: string, lingerMs = 1_000): void {
  try {
    ws.close(code, closeReason(reason));
  } catch {
    ws.terminate();
    return;
  }
  setTimeout(() => ws.terminate(), lingerMs).unref();
}
