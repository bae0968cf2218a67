import { ClientMessage, ServiceMessage } from './service-messages.js';
import { decodeFrame, encodeMessages, type HandshakeCheck } from './codec.js';
import { CLIENT_HOT_CHECKS, SERVICE_HOT_CHECKS } from './hot-messages.js';

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
  return decodeFrame(data, maxFrameBytes, ClientMessage, 'client', HANDSHAKE, segments, CLIENT_HOT_CHECKS);
}

/** Decodes and validates a frame a service sent. Throws {@link ProtocolError}, never anything else. */
export function decodeServiceFrame(data: Uint8Array, maxFrameBytes: number, segments?: readonly Uint8Array[]): ServiceMessage[] {
  return decodeFrame(data, maxFrameBytes, ServiceMessage, 'service', HANDSHAKE, segments, SERVICE_HOT_CHECKS);
}
