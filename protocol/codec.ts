import { AgentMessage } from './agent-messages.js';
import { CoordinatorMessage } from './coordinator-messages.js';
import { decodeFrame, type HandshakeCheck } from './envelope.js';
import { AGENT_HOT_CHECKS, COORDINATOR_HOT_CHECKS } from './hot-messages.js';
import { unpackDoneFrame } from './done-frames.js';
import { unpackTaskFrame } from './task-frames.js';

// The shared framing lives in envelope.ts (no schemas); re-exported for the callers that know it here.
export { decodeFrame, encodeFrame, encodeMessages, encodeSegmented, MAX_MESSAGES_PER_FRAME, type HandshakeCheck } from './envelope.js';

/** Decodes and validates a frame an agent sent. Throws {@link ProtocolError}, never anything else. */
export function decodeAgentFrame(data: Uint8Array, maxFrameBytes: number, segments?: readonly Uint8Array[]): AgentMessage[] {
  // A trivial map's result frames are read by hand (done-frames.ts); anything else, or odd, below.
  if (segments === undefined && data instanceof Uint8Array && data.byteLength <= maxFrameBytes) {
    const done = unpackDoneFrame(data);
    if (done !== null) return done;
  }
  return decodeFrame(data, maxFrameBytes, AgentMessage, 'agent', HANDSHAKE, segments, AGENT_HOT_CHECKS);
}

/** Decodes and validates a frame a coordinator sent. Throws {@link ProtocolError}, never anything else. */
export function decodeCoordinatorFrame(data: Uint8Array, maxFrameBytes: number, segments?: readonly Uint8Array[]): CoordinatorMessage[] {
  // A trivial map's task frames are read by hand (task-frames.ts); anything else, or odd, below.
  if (segments === undefined && data instanceof Uint8Array && data.byteLength <= maxFrameBytes) {
    const tasks = unpackTaskFrame(data);
    if (tasks !== null) return tasks;
  }
  return decodeFrame(data, maxFrameBytes, CoordinatorMessage, 'coordinator', HANDSHAKE, segments, COORDINATOR_HOT_CHECKS);
}

const HANDSHAKE: HandshakeCheck = {
  types: new Set(['hello', 'welcome']),
  hint: 'run the same clustrix version on the coordinator and the agents',
};
