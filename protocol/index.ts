/**
 * The wire protocols (agent ↔ coordinator, client ↔ service): one zod schema per message, a union
 * per direction, the msgpack codec that carries several messages per WebSocket frame, and the one
 * framed socket every connection uses. INTERNAL: exported for the agent bundle and for tools that
 * speak the protocol, without semver guarantees; both ends check PROTOCOL_VERSION at the handshake.
 *
 * ```ts
 * import { encodeFrame, decodeAgentFrame } from 'clustrix/protocol';
 * const frame = encodeFrame([{ type: 'ping', t: Date.now() }]);
 * ```
 */
export { PROTOCOL_VERSION, AgentFeature, DEFAULT_MAX_FRAME_BYTES, CloseCode, FINAL_CLOSE_CODES } from './version.js';
export { ClustrixError, ProtocolError, ERROR_CODES } from './errors.js';
export type { ErrorCode } from './errors.js';
export { Bytes, Id, RemoteErrorInfo, FailureKind } from './common.js';
export { Welcome, Code, Task, Cancel, Withdraw, Ping, Shutdown, CoordinatorMessage } from './coordinator-messages.js';
export { Hello, Done, Failed, Withdrawn, Log, Pong, Draining, AgentMessage } from './agent-messages.js';
export { ActorCreate, ActorCall, ActorKill, ActorReply, ActorReady, ActorExited, ActorRequest, ActorCheckpoint } from './actor-messages.js';
export { encodeFrame, decodeAgentFrame, decodeCoordinatorFrame, MAX_MESSAGES_PER_FRAME } from './codec.js';
export { packValue, unpackValue, ActorRef, setActorRefReviver, registerActorHandleClass, ACTOR_REF_EXTENSION } from './values.js';
export { AgentInfo, PendingAgent, ActorState, ActorInfo, LogEntry, ObjectStats, LinkBytes } from './rows.js';
export { CoreMethods, TaskSpec, BroadcastSpec, ActorSpec } from './core-methods.js';
export { ClientHello, ClientCode, Request, ClientMessage, ClientWelcome, WireError, Response, Event, ServiceEvents, ServiceMessage, ServiceMethods, ServiceStatus, ClientRow } from './service-messages.js';
export { FramedSocket } from './framed-socket.js';
export { closeReason, MAX_CLOSE_REASON_BYTES } from './close.js';
export { MAX_TIMER_MS } from './durations.js';
export { encodeClientFrame, decodeClientFrame, decodeServiceFrame } from './client-codec.js';
