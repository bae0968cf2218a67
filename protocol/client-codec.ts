import { ClientMessage, ServiceMessage } from './service-messages.js';
import { decodeFrame, encodeMessages, type HandshakeCheck } from './codec.js';
import { CLIENT_HOT_CHECKS, SERVICE_HOT_CHECKS } from './hot-messages.js';
import { unpackResultsFrame, unpackSubmitsFrame } from './service-frames.js';

// The framing of protocol/codec.ts: a msgpack array of messages per WebSocket frame.
const HANDSHAKE: HandshakeCheck = {
  types: new Set(['client-hello', 'client-welcome']),
  hint: 'run the same clustrix version for the service (clustrix up) and its clients',
};

/** Packs several client or service messages into one WebSocket frame. */
export function encodeClientFrame(messages: readonly (ClientMessage | ServiceMessage)[]): Buffer {
  return encodeMessages(messages);
}

/** Decodes and validates a frame a client sent. Throws {@link ProtocolError}, never anything else. */
export function decodeClientFrame(data: Uint8Array, maxFrameBytes: number, segments?: readonly Uint8Array[]): ClientMessage[] {
  // A connected map's submits are read by hand (service-frames.ts); anything else, or odd, below.
  if (segments === undefined && data instanceof Uint8Array && data.byteLength <= maxFrameBytes) {
    const submits = unpackSubmitsFrame(data);
    if (submits !== null) return submits;
  }
  return decodeFrame(data, maxFrameBytes, ClientMessage, 'client', HANDSHAKE, segments, CLIENT_HOT_CHECKS);
}

/** Decodes and validates a frame a service sent. Throws {@link ProtocolError}, never anything else. */
export function decodeServiceFrame(data: Uint8Array, maxFrameBytes: number, segments?: readonly Uint8Array[]): ServiceMessage[] {
  // A connected map's results are read by hand (service-frames.ts); anything else, or odd, below.
  if (segments === undefined && data instanceof Uint8Array && data.byteLength <= maxFrameBytes) {
    const results = unpackResultsFrame(data);
    if (results !== null) return results;
  }
  return decodeFrame(data, maxFrameBytes, ServiceMessage, 'service', HANDSHAKE, segments, SERVICE_HOT_CHECKS);
}
