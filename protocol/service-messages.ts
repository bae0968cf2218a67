/**
 * The protocol between a clustrix service (`clustrix up`) and its clients (`Cluster.connect()`),
 * as one generic envelope: a hello and its welcome, code shipped once per hash, requests
 * `{ id, method, args }` for the methods of {@link CoreMethods} and {@link ServiceMethods},
 * responses, and events the service pushes (agents, actors, logs). Frames as in codec.ts; the
 * arguments and results of each method are validated against that method's own schema.
 */
import { z } from 'zod';
import { Code } from './coordinator-messages.js';
import { Bytes, Id, RemoteErrorInfo } from './common.js';
import { CoreMethods, TaskSpec } from './core-methods.js';
import { ActorInfo, AgentInfo, LogEntry, PendingAgent } from './rows.js';
import { MAX_BATCH } from './version.js';

// ---- client → service ------------------------------------------------------------------------

/** First message of a client: its credential (from the service's 0600 state file). */
export const ClientHello = z.object({
  type: z.literal('client-hello'),
  protocol: z.number().int(),
  credential: z.string().min(1).max(512),
  /** For `clustrix status`: who this client is (program name and pid). */
  name: z.string().max(200),
});
export type ClientHello = z.infer<typeof ClientHello>;

/** Code the service keeps by hash for this connection, sent before the first request using it. */
export const ClientCode = Code.extend({ name: z.string().max(1000) });
export type ClientCode = z.infer<typeof ClientCode>;

/** A call of one method; its `args` are checked against the method's schema by the receiver. */
export const Request = z.object({
  type: z.literal('request'),
  id: Id,
  method: z.string().min(1).max(64),
  args: z.array(z.unknown()),
});
export type Request = z.infer<typeof Request>;

// Defined beside the frame limits: hot-messages.ts reads it, and importing this file for it would
// build every service schema in each agent's start (~9 ms, issue 16).
export { MAX_BATCH };

/**
 * Many `submit` requests that differ only in their task's id and arguments (the tasks of a map),
 * as columns: request `ids[i]` submits `base` with id `tasks[i]` and args `args[i]`. Each is
 * answered on its own, as a `submit` request would be.
 */
export const Submits = z
  .object({
    type: z.literal('submits'),
    base: TaskSpec.omit({ id: true, args: true }),
    ids: z.array(Id).min(1).max(MAX_BATCH),
    tasks: z.array(Id).max(MAX_BATCH),
    args: z.array(Bytes).max(MAX_BATCH),
  })
  .refine((m) => m.tasks.length === m.ids.length && m.args.length === m.ids.length, { error: 'ids, tasks and args must be as long' });
export type Submits = z.infer<typeof Submits>;

export const ClientMessage = z.discriminatedUnion('type', [ClientHello, ClientCode, Request, Submits]);
export type ClientMessage = z.infer<typeof ClientMessage>;

// ---- service → client ------------------------------------------------------------------------

export const ClientWelcome = z.object({
  type: z.literal('client-welcome'),
  protocol: z.number().int(),
  clientId: Id,
  serviceId: Id,
  profile: z.string(),
  backend: z.string(),
  /** The pool's default `retries`. */
  retries: z.number().int().nonnegative(),
  /** Largest frame the service accepts (and the pool's agents), bytes. */
  maxFrameBytes: z.number().int().positive(),
});
export type ClientWelcome = z.infer<typeof ClientWelcome>;

/**
 * A typed error as it crosses the wire: the code names its class in the error registry, `fields`
 * are that class's own fields, so the same class with the same fields is rebuilt on the other side.
 */
export const WireError = z.object({
  code: z.string().max(64),
  name: z.string().max(256),
  message: z.string(),
  hint: z.string().optional(),
  fields: z.record(z.string(), z.unknown()),
  /** For REMOTE_ERROR: the user's exception with its cause chain. */
  remote: RemoteErrorInfo.optional(),
});
export type WireError = z.infer<typeof WireError>;

export const Response = z.discriminatedUnion('ok', [
  z.object({ type: z.literal('response'), id: Id, ok: z.literal(true), value: z.unknown() }),
  z.object({ type: z.literal('response'), id: Id, ok: z.literal(false), error: WireError }),
]);
export type Response = z.infer<typeof Response>;

/** Something changed that clients see without asking. */
export const ServiceEvents = {
  /** The agents now (pushed when one comes, goes or changes state). */
  agents: z.array(AgentInfo),
  /** An actor changed state (restarting, alive again, dead). */
  actor: ActorInfo,
  /** A line of output of this client's task, or of an agent it follows. */
  log: LogEntry,
  /** The service is stopping: every pending call of this client fails, the connection closes next. */
  closing: z.object({ reason: z.string() }),
} as const;
export type ServiceEventName = keyof typeof ServiceEvents;
export type ServiceEventData<E extends ServiceEventName> = z.infer<(typeof ServiceEvents)[E]>;

export const Event = z.object({
  type: z.literal('event'),
  name: z.string().min(1).max(64),
  data: z.unknown(),
});
export type Event = z.infer<typeof Event>;

/** Successful answers to gathered submits whose values are small bytes (a map's results), as columns: request `ids[i]` answered `values[i]`. */
export const Results = z
  .object({
    type: z.literal('results'),
    ids: z.array(Id).min(1).max(MAX_BATCH),
    values: z.array(Bytes).max(MAX_BATCH),
  })
  .refine((m) => m.values.length === m.ids.length, { error: 'ids and values must be as long' });
export type Results = z.infer<typeof Results>;

export const ServiceMessage = z.discriminatedUnion('type', [ClientWelcome, Response, Event, Results]);
export type ServiceMessage = z.infer<typeof ServiceMessage>;

// ---- methods only a service has (the CLI's) ----------------------------------------------------

export const ClientRow = z.object({
  id: z.string(),
  name: z.string(),
  /** Tasks of this client queued or running. */
  tasks: z.number(),
  connectedAt: z.number(),
});
export type ClientRow = z.infer<typeof ClientRow>;

export const ServiceStatus = z.object({
  serviceId: z.string(),
  profile: z.string(),
  backend: z.string(),
  pid: z.number(),
  startedAt: z.number(),
  agents: z.array(AgentInfo),
  /** Agents whose job is queued or starting (not connected yet). */
  pending: z.array(PendingAgent),
  clients: z.array(ClientRow),
});
export type ServiceStatus = z.infer<typeof ServiceStatus>;

export const ServiceMethods = {
  ...CoreMethods,
  /** The service, its agents and its clients (`clustrix status`). */
  status: { args: z.tuple([]), result: ServiceStatus },
  /** Stops the service (`clustrix down`): its jobs are cancelled; answered before it goes. */
  stop: { args: z.tuple([]), result: z.null() },
} as const;
export type ServiceMethodName = keyof typeof ServiceMethods;
export type ServiceArgs<M extends ServiceMethodName> = z.infer<(typeof ServiceMethods)[M]['args']>;
export type ServiceResult<M extends ServiceMethodName> = z.infer<(typeof ServiceMethods)[M]['result']>;
