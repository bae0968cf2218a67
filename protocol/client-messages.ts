/**
 * The protocol between a clustrix service (`clustrix up`) and its clients (`Cluster.connect()`):
 * one zod schema per message, a discriminated union per direction, carried by the same msgpack
 * framing as the agent protocol (several messages per WebSocket frame). The first message each way
 * carries the protocol version; requests are correlated by id.
 */
import { z } from 'zod';
import { Bytes, Id, RemoteErrorInfo } from './common.js';
import { MAX_TIMER_MS } from './durations.js';

// ---- client → service ------------------------------------------------------------------------

/** First message of a client: its credential (from the service's 0600 state file). */
export const ClientHello = z.object({
  type: z.literal('client-hello'),
  protocol: z.number().int(),
  credential: z.string().min(1).max(512),
  /** For `status`: who this client is (program name and pid). */
  name: z.string().max(200),
});
export type ClientHello = z.infer<typeof ClientHello>;

/** Code the service caches by hash for this connection, sent before the first task using it. */
export const ClientCode = z.object({
  type: z.literal('client-code'),
  hash: Id,
  kind: z.enum(['function', 'module']),
  source: z.string(),
  name: z.string().max(1000),
});
export type ClientCode = z.infer<typeof ClientCode>;

/** One task, as the in-process submitter would make it. */
export const Submit = z.object({
  type: z.literal('submit'),
  id: Id,
  /** Hash of a ClientCode sent earlier on this connection. */
  code: Id,
  export: z.string().nullable(),
  args: Bytes,
  inline: z.boolean(),
  chunk: z.boolean(),
  timeoutMs: z.number().int().positive().max(MAX_TIMER_MS).nullable(),
  retries: z.number().int().nonnegative(),
  retryExceptions: z.number().int().nonnegative(),
});
export type Submit = z.infer<typeof Submit>;

/** Runs a task once on every ready agent; answered by `broadcast-done` (or `task-failed`). */
export const Broadcast = Submit.omit({ type: true, chunk: true }).extend({ type: z.literal('broadcast') });
export type Broadcast = z.infer<typeof Broadcast>;

export const CancelTask = z.object({
  type: z.literal('cancel-task'),
  id: Id,
});
export type CancelTask = z.infer<typeof CancelTask>;

/** Asks for the agents and clients now; answered by `status-reply`. */
export const StatusRequest = z.object({
  type: z.literal('status'),
  id: Id,
});
export type StatusRequest = z.infer<typeof StatusRequest>;

/** Adds or removes agents of the shared pool; answered by `ack`. */
export const ScaleRequest = z.object({
  type: z.literal('scale'),
  id: Id,
  agents: z.number().int().nonnegative(),
});
export type ScaleRequest = z.infer<typeof ScaleRequest>;

/** Stops the service (`clustrix down`): its jobs are cancelled; answered by `ack` before it goes. */
export const StopRequest = z.object({
  type: z.literal('stop'),
  id: Id,
});
export type StopRequest = z.infer<typeof StopRequest>;

/** Sends this client every log line of one agent (or of every agent: null), whoever ran the task. */
export const FollowLogs = z.object({
  type: z.literal('follow-logs'),
  id: Id,
  /** An agent id or a job id; null: every agent. */
  target: z.string().max(200).nullable(),
});
export type FollowLogs = z.infer<typeof FollowLogs>;

/** Actor options as they cross the wire (validated and defaulted by the client, checked again by the service). */
export const WireActorOptions = z.object({
  name: z.string().min(1).max(200).nullable(),
  maxRestarts: z.number().int().nonnegative(),
  maxConcurrency: z.number().int().positive(),
  agent: z.string().min(1).max(200).nullable(),
  getIfExists: z.boolean(),
  timeoutMs: z.number().int().positive().max(MAX_TIMER_MS).nullable(),
});
export type WireActorOptions = z.infer<typeof WireActorOptions>;

/**
 * Constructs an actor on the service's pool; answered by `actors-reply` (one row) or `task-failed`.
 * Unnamed actors belong to this connection: the service kills them when it closes. Named ones stay.
 */
export const ClientActorCreate = z.object({
  type: z.literal('actor-create'),
  id: Id,
  /** Hash of a ClientCode sent earlier on this connection (a class's source, or a module). */
  code: Id,
  /** For modules: the exported class. */
  export: z.string().nullable(),
  /** msgpack (structured) of the constructor's argument list. */
  args: Bytes,
  options: WireActorOptions,
});
export type ClientActorCreate = z.infer<typeof ClientActorCreate>;

/** Calls a method of an actor this connection holds a handle to; answered by `task-done` or `task-failed`. */
export const ClientActorCall = z.object({
  type: z.literal('actor-call'),
  id: Id,
  actorId: Id,
  method: z.string().min(1).max(256),
  args: Bytes,
});
export type ClientActorCall = z.infer<typeof ClientActorCall>;

/** Ends an actor; answered by `ack` (also when it was dead already). */
export const ClientActorKill = z.object({
  type: z.literal('actor-kill'),
  id: Id,
  actorId: Id,
});
export type ClientActorKill = z.infer<typeof ClientActorKill>;

/** Looks up a live named actor; answered by `actors-reply` with zero or one row. */
export const ClientActorGet = z.object({
  type: z.literal('actor-get'),
  id: Id,
  name: z.string().min(1).max(200),
});
export type ClientActorGet = z.infer<typeof ClientActorGet>;

/** Lists every actor of the service, live or dead; answered by `actors-reply`. */
export const ClientActorList = z.object({
  type: z.literal('actor-list'),
  id: Id,
});
export type ClientActorList = z.infer<typeof ClientActorList>;

/** Everything a client sends to a service. */
export const ClientMessage = z.discriminatedUnion('type', [
  ClientHello,
  ClientCode,
  Submit,
  Broadcast,
  CancelTask,
  StatusRequest,
  ScaleRequest,
  StopRequest,
  FollowLogs,
  ClientActorCreate,
  ClientActorCall,
  ClientActorKill,
  ClientActorGet,
  ClientActorList,
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

// ---- service → client ------------------------------------------------------------------------

export const ClientWelcome = z.object({
  type: z.literal('client-welcome'),
  protocol: z.number().int(),
  clientId: Id,
  serviceId: Id,
  profile: z.string(),
  backend: z.string(),
  /** The service's default `retries`. */
  retries: z.number().int().nonnegative(),
});
export type ClientWelcome = z.infer<typeof ClientWelcome>;

export const TaskDone = z.object({
  type: z.literal('task-done'),
  id: Id,
  /** msgpack of the result. */
  value: Bytes,
});
export type TaskDone = z.infer<typeof TaskDone>;

/** A broadcast's results: one per agent, each packed apart, in the service's agent order. */
export const BroadcastDone = z.object({
  type: z.literal('broadcast-done'),
  id: Id,
  values: z.array(Bytes),
});
export type BroadcastDone = z.infer<typeof BroadcastDone>;

/** A typed error as it crosses to a client: enough to rebuild the same error class there. */
export const WireError = z.object({
  code: z.string(),
  name: z.string(),
  message: z.string(),
  hint: z.string().optional(),
  /** For REMOTE_ERROR: the user's exception. */
  remote: RemoteErrorInfo.optional(),
  taskId: z.string().optional(),
  agentId: z.string().optional(),
  timeoutMs: z.number().optional(),
  actorId: z.string().optional(),
});
export type WireError = z.infer<typeof WireError>;

export const TaskFailed = z.object({
  type: z.literal('task-failed'),
  id: Id,
  error: WireError,
});
export type TaskFailed = z.infer<typeof TaskFailed>;

/** A line of output of a task this client submitted (or of an agent it follows). */
export const TaskLog = z.object({
  type: z.literal('task-log'),
  agentId: z.string(),
  taskId: z.string().nullable(),
  stream: z.enum(['stdout', 'stderr']),
  text: z.string(),
});
export type TaskLog = z.infer<typeof TaskLog>;

export const AgentRow = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number(),
  slots: z.number(),
  state: z.enum(['ready', 'draining', 'closed']),
  busy: z.number(),
  tasksDone: z.number(),
  jobId: z.string().nullable(),
  rssBytes: z.number(),
  walltimeLeftMs: z.number().nullable(),
});
export type AgentRow = z.infer<typeof AgentRow>;

export const ClientRow = z.object({
  id: z.string(),
  name: z.string(),
  /** Tasks of this client queued or running. */
  tasks: z.number(),
  connectedAt: z.number(),
});
export type ClientRow = z.infer<typeof ClientRow>;

export const StatusReply = z.object({
  type: z.literal('status-reply'),
  id: Id,
  serviceId: z.string(),
  profile: z.string(),
  backend: z.string(),
  pid: z.number(),
  startedAt: z.number(),
  agents: z.array(AgentRow),
  /** Agents whose job is queued or starting (not connected yet). */
  pending: z.array(z.object({ agentId: z.string(), jobId: z.string() })),
  clients: z.array(ClientRow),
});
export type StatusReply = z.infer<typeof StatusReply>;

/** A request succeeded (`error` absent) or failed. */
export const Ack = z.object({
  type: z.literal('ack'),
  id: Id,
  error: WireError.optional(),
});
export type Ack = z.infer<typeof Ack>;

/** The service is stopping: every task of this client fails, the connection closes next. */
export const ServiceClosing = z.object({
  type: z.literal('service-closing'),
  reason: z.string(),
});
export type ServiceClosing = z.infer<typeof ServiceClosing>;

export const ActorState = z.enum(['starting', 'alive', 'restarting', 'dead']);

/** One actor, as `actors()` lists it. */
export const ActorRow = z.object({
  id: z.string(),
  name: z.string().nullable(),
  className: z.string(),
  agentId: z.string().nullable(),
  state: ActorState,
  callsServed: z.number(),
  restarts: z.number(),
});
export type ActorRow = z.infer<typeof ActorRow>;

/** The answer to `actor-create` (the new actor), `actor-get` (none or one) and `actor-list` (all). */
export const ActorsReply = z.object({
  type: z.literal('actors-reply'),
  id: Id,
  actors: z.array(ActorRow),
});
export type ActorsReply = z.infer<typeof ActorsReply>;

/** Pushed when an actor this client holds a handle to changes state (restarting, alive again, dead). */
export const ActorUpdate = z.object({
  type: z.literal('actor-update'),
  actorId: Id,
  state: ActorState,
  restarts: z.number().int().nonnegative(),
});
export type ActorUpdate = z.infer<typeof ActorUpdate>;

/** Everything a service sends to a client. */
export const ServiceMessage = z.discriminatedUnion('type', [ClientWelcome, TaskDone, BroadcastDone, TaskFailed, TaskLog, StatusReply, Ack, ServiceClosing, ActorsReply, ActorUpdate]);
export type ServiceMessage = z.infer<typeof ServiceMessage>;
