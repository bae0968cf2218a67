/** Bumped whenever a message changes shape; both sides refuse a peer with another version. */
export const PROTOCOL_VERSION = 2;

/**
 * Features an agent names in its hello (`features`) beyond the version's baseline; a coordinator
 * uses one only with agents that name it, so older agents of the same version keep working.
 * `park`: it holds tasks sent `parked` until their deps land in its store, and answers `withdraw`.
 */
export const AgentFeature = { park: 'park' } as const;

/**
 * Largest frame (its messages and the segments beside them) either side accepts unless configured
 * otherwise (2 GiB): the largest value one call can carry.
 */
export const DEFAULT_MAX_FRAME_BYTES = 2 * 1024 * 1024 * 1024;

/** Largest single WebSocket message: a longer segment is cut into several (256 MiB). */
export const MAX_WS_MESSAGE_BYTES = 256 * 1024 * 1024;

/**
 * The `maxPayload` of every socket carrying frames of at most `maxFrameBytes`: what ws buffers for
 * one message before anything is validated, so it stays bounded however large frames may be.
 */
export function wsMessageLimit(maxFrameBytes: number): number {
  return Math.min(maxFrameBytes, MAX_WS_MESSAGE_BYTES);
}

/** Most calls one `submits` or `results` message of the client protocol carries. */
export const MAX_BATCH = 4096;

/** Causes kept when an error is packed (the cut is marked); deeper chains on the wire are refused. */
export const MAX_CAUSE_DEPTH = 16;

/** Room a message's envelope needs beside its value bytes in one frame (less for tiny frames). */
const ENVELOPE_BYTES = 64 * 1024;

/** The largest value (arguments or result, packed) that fits one message in a frame of `maxFrameBytes`. */
export function valueLimit(maxFrameBytes: number): number {
  return maxFrameBytes - Math.min(ENVELOPE_BYTES, Math.floor(maxFrameBytes / 8));
}

/**
 * WebSocket close codes used by clustrix (4000-4999 is the range RFC 6455 leaves to applications).
 * An agent reconnects after any code except the ones in {@link FINAL_CLOSE_CODES}.
 */
export const CloseCode = {
  normal: 1000,
  /** ws itself closes with 1009 when a frame exceeds maxPayload. */
  tooBig: 1009,
  /** This side failed on a valid message (a bug): that connection goes, the process stays. */
  internalError: 1011,
  protocolError: 4000,
  versionMismatch: 4001,
  authFailed: 4003,
  authTimeout: 4004,
  heartbeatTimeout: 4005,
  /** The coordinator is shutting down or released this agent: exit, do not reconnect. */
  shutdown: 4010,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** After these, reconnecting cannot help: the agent exits with an error. */
export const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.versionMismatch,
  CloseCode.authFailed,
  CloseCode.shutdown,
]);
