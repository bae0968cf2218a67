import { Packr } from 'msgpackr';
import type { z } from 'zod';
import { ClientMessage, ServiceMessage } from './client-messages.js';
import { MAX_MESSAGES_PER_FRAME } from './codec.js';
import { ProtocolError } from './errors.js';
import { CloseCode, PROTOCOL_VERSION } from './version.js';

// The framing of protocol/codec.ts: a msgpack array of messages per WebSocket frame.
const envelope = new Packr({ useRecords: false, mapsAsObjects: true });

/** Packs several client or service messages into one WebSocket frame. */
export function encodeClientFrame(messages: readonly (ClientMessage | ServiceMessage)[]): Buffer {
  return envelope.pack(messages);
}

/** Decodes and validates a frame a client sent. Throws {@link ProtocolError}, never anything else. */
export function decodeClientFrame(data: Uint8Array, maxFrameBytes: number): ClientMessage[] {
  return decode(data, maxFrameBytes, ClientMessage, 'client');
}

/** Decodes and validates a frame a service sent. Throws {@link ProtocolError}, never anything else. */
export function decodeServiceFrame(data: Uint8Array, maxFrameBytes: number): ServiceMessage[] {
  return decode(data, maxFrameBytes, ServiceMessage, 'service');
}

function decode<T>(data: Uint8Array, maxFrameBytes: number, schema: z.ZodType<T>, from: string): T[] {
  if (!(data instanceof Uint8Array)) throw new ProtocolError(`a ${from} frame must be binary msgpack, got ${typeof data}`, CloseCode.protocolError);
  if (data.byteLength > maxFrameBytes) {
    throw new ProtocolError(`a ${from} frame of ${data.byteLength} bytes exceeds the limit of ${maxFrameBytes} bytes`, CloseCode.tooBig, {
      hint: 'pass large data through shared storage',
    });
  }
  let raw: unknown;
  try {
    raw = envelope.unpack(data);
  } catch (cause) {
    throw new ProtocolError(`a ${from} frame is not valid msgpack (${(cause as Error).message})`, CloseCode.protocolError, { cause });
  }
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_MESSAGES_PER_FRAME) {
    throw new ProtocolError(`a ${from} frame must be a non-empty array of at most ${MAX_MESSAGES_PER_FRAME} messages`, CloseCode.protocolError);
  }
  const out: T[] = new Array<T>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const item: unknown = raw[i];
    checkVersion(item, from);
    const parsed = schema.safeParse(item);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue ? `${issue.path.join('.') || '(message)'}: ${issue.message}` : 'invalid';
      throw new ProtocolError(`invalid ${from} message #${i}: ${where}`, CloseCode.protocolError, { cause: parsed.error });
    }
    out[i] = parsed.data;
  }
  return out;
}

// Checked before the schema, as in protocol/codec.ts: the user must learn about the version first.
function checkVersion(item: unknown, from: string): void {
  if (typeof item !== 'object' || item === null) return;
  const { type, protocol } = item as { type?: unknown; protocol?: unknown };
  if ((type === 'client-hello' || type === 'client-welcome') && protocol !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      `the ${from} speaks protocol version ${typeof protocol === 'number' ? protocol : typeof protocol}, this side speaks version ${PROTOCOL_VERSION}`,
      CloseCode.versionMismatch,
      { code: 'PROTOCOL_VERSION_MISMATCH', hint: 'run the same clustrix version for the service (clustrix up) and its clients' },
    );
  }
}
