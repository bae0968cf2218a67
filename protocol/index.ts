/**
 * The wire protocol between coordinator and agents: one zod schema per message, a union per
 * direction, and the msgpack codec that carries several messages per WebSocket frame.
 *
 * ```ts
 * import { encodeFrame, decodeAgentFrame } from 'clustrix/protocol';
 * const frame = encodeFrame([{ type: 'ping', t: Date.now() }]);
 * ```
 */
export { PROTOCOL_VERSION, DEFAULT_MAX_FRAME_BYTES, CloseCode, FINAL_CLOSE_CODES } from './version.js';
export { ClustrixError, ProtocolError } from './errors.js';
export { Bytes, Id, RemoteErrorInfo, FailureKind } from './common.js';
export { Welcome, Code, Task, Cancel, Ping, Shutdown, CoordinatorMessage } from './coordinator-messages.js';
export { Hello, Done, Failed, Log, Pong, Draining, AgentMessage } from './agent-messages.js';
export { ActorCreate, ActorCall, ActorKill, ActorReply, ActorReady, ActorExited, ActorRequest } from './actor-messages.js';
export { encodeFrame, decodeAgentFrame, decodeCoordinatorFrame, MAX_MESSAGES_PER_FRAME } from './codec.js';
export { packValue, unpackValue, ActorRef, setActorRefReviver, registerActorHandleClass, ACTOR_REF_EXTENSION } from './values.js';
export {
  ClientHello,
  ClientCode,
  Submit,
  Broadcast,
  CancelTask,
  StatusRequest,
  ScaleRequest,
  StopRequest,
  FollowLogs,
  ClientMessage,
  ClientWelcome,
  TaskDone,
  BroadcastDone,
  WireError,
  TaskFailed,
  TaskLog,
  AgentRow,
  ClientRow,
  StatusReply,
  Ack,
  ServiceClosing,
  ServiceMessage,
} from './client-messages.js';
export { encodeClientFrame, decodeClientFrame, decodeServiceFrame } from './client-codec.js';
