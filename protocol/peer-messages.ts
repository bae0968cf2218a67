/**
 * Agent ↔ agent: a value one agent holds, fetched by another that runs a task needing it, so the
 * bytes never pass through the coordinator when the two can reach each other. The fetching agent
 * proves it belongs to the cluster with the cluster's token (the same check as the coordinator's).
 */
import { z } from 'zod';
import { Bytes, Id } from './common.js';
import { decodeFrame, type HandshakeCheck } from './codec.js';

/** First message of a fetching agent. */
export const PeerHello = z.object({
  type: z.literal('peer-hello'),
  protocol: z.number().int(),
  token: z.string().min(1).max(1024),
});

export const PeerFetch = z.object({
  type: z.literal('peer-fetch'),
  id: Id,
  objectId: Id,
});

export const PeerMessage = z.discriminatedUnion('type', [PeerHello, PeerFetch]);
export type PeerMessage = z.infer<typeof PeerMessage>;

/** The serving agent's answers. */
export const PeerData = z.object({
  type: z.literal('peer-data'),
  id: Id,
  objectId: Id,
  bytes: Bytes,
});

export const PeerMissing = z.object({
  type: z.literal('peer-missing'),
  id: Id,
  objectId: Id,
  reason: z.string().max(1000),
});

export const PeerWelcome = z.object({
  type: z.literal('peer-welcome'),
  protocol: z.number().int(),
});

export const PeerReply = z.discriminatedUnion('type', [PeerWelcome, PeerData, PeerMissing]);
export type PeerReply = z.infer<typeof PeerReply>;

const HANDSHAKE: HandshakeCheck = {
  types: new Set(['peer-hello', 'peer-welcome']),
  hint: 'run the same clustrix version on every agent',
};

export function decodePeerFrame(data: Uint8Array, maxFrameBytes: number, segments?: readonly Uint8Array[]): PeerMessage[] {
  return decodeFrame(data, maxFrameBytes, PeerMessage, 'peer', HANDSHAKE, segments);
}

export function decodePeerReplyFrame(data: Uint8Array, maxFrameBytes: number, segments?: readonly Uint8Array[]): PeerReply[] {
  return decodeFrame(data, maxFrameBytes, PeerReply, 'peer', HANDSHAKE, segments);
}
