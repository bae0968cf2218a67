/**
 * What a port must do with the frames a fuzz case sends: the protocol's rules written once, from
 * the documentation (protocol/version.ts, the schemas), so every generated input gets one exact
 * expected close code. The schemas are the oracle for "is this message valid"; msgpack (the same
 * decoder options as protocol/codec.ts) for "what did the peer receive".
 */
import { Packr } from 'msgpackr';
import { CloseCode, MAX_MESSAGES_PER_FRAME, PROTOCOL_VERSION } from 'clustrix/protocol';

const envelope = new Packr({ useRecords: false, mapsAsObjects: true });

/** How the port must end the connection (or the agent process its life). */
export interface Expectation {
  code: number;
  reason?: RegExp;
  /** The agent process exits with this code (a final close, or a shutdown). */
  exit?: number;
}

export type Step = Expectation | 'authed' | 'continue';

export interface Message extends Record<string, unknown> {
  type: string;
}

export interface ProtocolModel {
  schema: { safeParse(value: unknown): { success: boolean } };
  /** Types whose `protocol` field is checked before the schema (see protocol/codec.ts). */
  handshakeTypes: ReadonlySet<string>;
  maxFrameBytes: number;
  /** What one valid message does before (authed false) or after the handshake. */
  step(authed: boolean, message: Message): Step;
}

export type Frame =
  | { binary: Buffer }
  | { text: string }
  /** Bytes written below ws (see ws-frames.ts), and the code ws itself closes with. */
  | { raw: Buffer; code: number };

export type Prediction = { close: Expectation } | { open: true; authed: boolean };

/** The frame that ends every case still open: an array of two that ends after one. */
export const POISON: Buffer = Buffer.from([0x92, 0xc0]);
export const POISON_EXPECTATION: Expectation = { code: CloseCode.protocolError, reason: /not valid msgpack/ };

/** Follows the frames in order, as the port would, until one closes the connection. */
export function predict(model: ProtocolModel, authed: boolean, frames: readonly Frame[]): Prediction {
  const afterHandshake = authed;
  for (const [i, frame] of frames.entries()) {
    if ('raw' in frame) return { close: { code: frame.code } };
    if ('text' in frame) return { close: { code: CloseCode.protocolError } };
    const verdict = frameVerdict(model, frame.binary, i === 0 && !afterHandshake);
    if (!Array.isArray(verdict)) return { close: verdict };
    for (const message of verdict) {
      const step = model.step(authed, message);
      if (step === 'authed') authed = true;
      else if (step !== 'continue') return { close: step };
    }
  }
  return { open: true, authed };
}

/** The decoded messages of a frame the port accepts, or how it refuses the frame. */
function frameVerdict(model: ProtocolModel, data: Buffer, first: boolean): Message[] | Expectation {
  if (data.byteLength > model.maxFrameBytes) return { code: CloseCode.tooBig };
  // After the first frame, 0xc1 (a byte msgpack never uses) opens a frame with segments
  // (protocol/segments.ts); the fuzz sends none that announce a valid list.
  if (!first && data[0] === 0xc1) return { code: CloseCode.protocolError, reason: /with segments/ };
  let raw: unknown;
  try {
    raw = envelope.unpack(data);
  } catch {
    return { code: CloseCode.protocolError, reason: /not valid msgpack/ };
  }
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_MESSAGES_PER_FRAME) return { code: CloseCode.protocolError, reason: /non-empty array/ };
  for (const item of raw as unknown[]) {
    if (typeof item === 'object' && item !== null) {
      const { type, protocol } = item as { type?: unknown; protocol?: unknown };
      if (typeof type === 'string' && model.handshakeTypes.has(type) && protocol !== PROTOCOL_VERSION) return { code: CloseCode.versionMismatch };
    }
    if (!valid(model, item)) return { code: CloseCode.protocolError };
  }
  return raw as Message[];
}

// A validator that overflows the stack on deep input refuses it as surely as one that says no.
function valid(model: ProtocolModel, item: unknown): boolean {
  try {
    return model.schema.safeParse(item).success;
  } catch {
    return false;
  }
}

/** A short, stable label of an outcome for tallies and failure lists. */
export function label(e: Expectation | { open: true }): string {
  if ('open' in e) return 'stays open';
  return `${e.code}${e.exit === undefined ? '' : ` + exit ${e.exit}`}`;
}
