/**
 * The framing every clustrix WebSocket protocol shares: msgpack envelopes of several messages, the
 * raw segments beside them, and the decode that checks the version, then each message's schema.
 * No schema is built here (zod is imported for types only): an agent dials and says hello with this
 * file alone, and loads its schemas (codec.ts) while the coordinator answers (agent/connection.ts).
 */
import { Packr } from 'msgpackr';
import type { z } from 'zod';
import type { AgentMessage } from './agent-messages.js';
import { packingSegments, unpackingSegments } from './binary.js';
import { packDoneFrame } from './done-frames.js';
import { packResultsFrame, packSubmitsFrame } from './service-frames.js';
import { packTaskFrame } from './task-frames.js';
import type { CoordinatorMessage } from './coordinator-messages.js';
import type { HotCheck } from './hot-messages.js';
import { ProtocolError } from './errors.js';
import { CloseCode, PROTOCOL_VERSION } from './version.js';

// Records (msgpackr's structures): each frame defines the shapes it uses inline (no state carries
// from one frame to the next, so any unpacker reads it), and a message is read as an object
// literal instead of key by key: a frame of 13 task messages decoded in 0.59 µs a message instead
// of 0.89, packed in 0.60 instead of 0.73, in half the bytes (issue 16). An unpacker decodes
// records whatever its own options: no input is accepted now that was not before.
const envelope = new Packr({ useRecords: true, mapsAsObjects: true });

/** Most messages one frame may carry; a batch is cut into several frames past this. */
export const MAX_MESSAGES_PER_FRAME = 65_536;

/**
 * Packs messages for a FramedSocket: the envelope, and the byte views of SEGMENT_MIN_BYTES or more
 * inside the messages set aside as raw segments (views of the senders' bytes, not copies). See
 * framed-socket.ts for how the two travel.
 */
export function encodeSegmented(messages: readonly object[]): { head: Buffer; segments: Uint8Array[] } {
  // A trivial map's tasks and results, and a connected map's: the same bytes, written by hand (record-frames.ts).
  const hand = packTaskFrame(messages) ?? packDoneFrame(messages) ?? packSubmitsFrame(messages) ?? packResultsFrame(messages);
  if (hand !== null) return { head: hand, segments: [] };
  const { packed, segments } = packingSegments(envelope, () => envelope.pack(messages));
  return { head: packed, segments };
}

const NO_SEGMENTS: readonly Uint8Array[] = [];

/** Packs several messages into one WebSocket frame (no segments: every byte in the msgpack). */
export function encodeFrame(messages: readonly (AgentMessage | CoordinatorMessage)[]): Buffer {
  return envelope.pack(messages);
}

/** The same framing for any other clustrix protocol's messages. */
export function encodeMessages(messages: readonly object[]): Buffer {
  return envelope.pack(messages);
}

/** Message types whose `protocol` field is checked before the schema: they open a connection. */
export interface HandshakeCheck {
  types: ReadonlySet<string>;
  hint: string;
}

/**
 * Decodes a frame (a msgpack array of messages) and validates each message against `schema`.
 * Shared by every clustrix WebSocket protocol. `segments`: the raw segments that followed the
 * envelope (each must be referred to by it). `hot`: hand-written checks of the most frequent
 * message types (hot-messages.ts); a message one of them passes is what the schema would return,
 * anything else goes through the schema. Throws {@link ProtocolError}, never anything else.
 */
export function decodeFrame<T>(
  data: Uint8Array,
  maxFrameBytes: number,
  schema: z.ZodType<T>,
  from: string,
  handshake: HandshakeCheck,
  segments: readonly Uint8Array[] = NO_SEGMENTS,
  hot?: ReadonlyMap<string, HotCheck>,
): T[] {
  if (!(data instanceof Uint8Array)) {
    throw new ProtocolError(`a ${from} frame must be binary msgpack, got ${typeof data}`, CloseCode.protocolError);
  }
  if (data.byteLength > maxFrameBytes) {
    throw new ProtocolError(
      `a ${from} frame of ${data.byteLength} bytes exceeds the limit of ${maxFrameBytes} bytes`,
      CloseCode.tooBig,
      { hint: 'raise maxFrameBytes on both sides, or pass large data through shared storage' },
    );
  }
  let raw: unknown;
  let used: number;
  try {
    ({ value: raw, used } = unpackingSegments(segments, () => envelope.unpack(data)));
  } catch (cause) {
    throw new ProtocolError(`a ${from} frame is not valid msgpack (${(cause as Error).message})`, CloseCode.protocolError, { cause });
  }
  if (used !== segments.length) {
    throw new ProtocolError(`a ${from} frame refers ${used} times to its ${segments.length} segments`, CloseCode.protocolError);
  }
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_MESSAGES_PER_FRAME) {
    throw new ProtocolError(`a ${from} frame must be a non-empty array of at most ${MAX_MESSAGES_PER_FRAME} messages`, CloseCode.protocolError);
  }
  const out: T[] = new Array<T>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const item: unknown = raw[i];
    if (hot !== undefined && typeof item === 'object' && item !== null) {
      const check = hot.get((item as { type?: unknown }).type as string);
      if (check !== undefined && check(item)) {
        out[i] = item as T;
        continue;
      }
    }
    checkVersion(item, from, handshake);
    const parsed = schema.safeParse(item);
    if (!parsed.success) {
      const kind = typeof item === 'object' && item !== null && 'type' in item ? describe((item as { type: unknown }).type) : '?';
      const issue = parsed.error.issues[0];
      const where = issue ? `${issue.path.join('.') || '(message)'}: ${issue.message}` : 'invalid';
      throw new ProtocolError(`invalid ${from} message #${i} of type '${kind}': ${where}`, CloseCode.protocolError, { cause: parsed.error });
    }
    out[i] = parsed.data;
  }
  return out;
}

// The version is checked before the schema: a peer of another version may have another schema, and
// the user must learn about the version, not about a field it renamed.
function checkVersion(item: unknown, from: string, handshake: HandshakeCheck): void {
  if (typeof item !== 'object' || item === null) return;
  const { type, protocol } = item as { type?: unknown; protocol?: unknown };
  if (typeof type === 'string' && handshake.types.has(type) && protocol !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      `the ${from} speaks protocol version ${describe(protocol)}, this side speaks version ${PROTOCOL_VERSION}`,
      CloseCode.versionMismatch,
      { code: 'PROTOCOL_VERSION_MISMATCH', hint: handshake.hint },
    );
  }
}

// Peer-sent values may be maps with a hostile toString; describing them must not throw.
function describe(value: unknown): string {
  if (typeof value === 'string') return value.slice(0, 64);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  return typeof value;
}
