/**
 * The methods beneath every `Cluster`, embedded or connected: one entry per method, its argument
 * list and its result as zod schemas. An embedded cluster calls them in process; a connected one
 * sends `{ type: 'request', id, method, args }` and the service answers `{ type: 'response' }`.
 * Adding a method to `Cluster` is one entry here and one handler in the engine's core.
 */
import { z } from 'zod';
import { ActorCreate } from './actor-messages.js';
import { Bytes, Id } from './common.js';
import { Task } from './coordinator-messages.js';
import { ObjectId } from './object-messages.js';
import { MAX_TIMER_MS } from './durations.js';
import { Resources } from './resources.js';
import { ActorInfo, AgentInfo, DashboardAccess, DetachKind, DetachedRow, HistoryQuery, ObjectStats, PendingAgent, TaskHistory } from './rows.js';

/** A pool's name, as `pools` keys are written. */
const PoolName = z.string().min(1).max(64);

/** Most refs one call's arguments may hold. */
const MAX_REFS = 65_536;

/** A task as a cluster submits it: the agent's Task, plus what the scheduler needs. */
export const TaskSpec = Task.omit({ type: true, deps: true, express: true, gpus: true }).extend({
  /** Ids of the object refs inside `args` (met when they were packed): resolved before it runs. */
  refs: z.array(ObjectId).max(MAX_REFS),
  /** Those of `refs` that appear only nested inside an argument: the agent fetches them only when the task awaits one. */
  lazy: z.array(ObjectId).max(MAX_REFS).optional(),
  /** Re-runs after the task's agent is lost. */
  retries: z.number().int().nonnegative(),
  /** Re-runs after the function throws. */
  retryExceptions: z.number().int().nonnegative(),
  /** Higher runs first, within the caller's share and across callers. */
  priority: z.number().finite(),
  /** Fair-share weight of the task's share-holder (its call in a program, its client in a service). */
  weight: z.number().positive().max(1e6),
  /** The call it belongs to (a `map`'s tasks share one); null: a call of its own. */
  group: Id.nullable(),
  /** What it needs of an agent while it runs; null: one slot. */
  resources: Resources.nullable(),
  /** Only agents of this pool may run it; null or absent: any agent that fits. */
  pool: PoolName.nullable().optional(),
  /** The call (map/stream) it is part of, for history and the dashboard; absent: a call of its own. */
  call: z.object({ id: z.string().min(1).max(200), label: z.string().max(200) }).optional(),
});
export type TaskSpec = z.infer<typeof TaskSpec>;

/** What a broadcast runs on every agent: a task spec without an id of its own (each copy gets one). */
export const BroadcastSpec = TaskSpec.omit({ id: true, chunk: true, priority: true, weight: true, group: true, resources: true, keep: true, call: true });
export type BroadcastSpec = z.infer<typeof BroadcastSpec>;

/** An actor as a cluster creates it: the agent's ActorCreate, plus what the actor manager needs. */
export const ActorSpec = ActorCreate.omit({ type: true, actorId: true, restore: true, deps: true }).extend({
  /** Ids of the object refs inside the constructor's `args`, and those of them only nested (absent: none). */
  refs: z.array(ObjectId).max(MAX_REFS).optional(),
  lazy: z.array(ObjectId).max(MAX_REFS).optional(),
  name: z.string().min(1).max(200).nullable(),
  maxRestarts: z.number().int().nonnegative(),
  /** Place it on this agent; null: the least loaded. */
  agent: z.string().min(1).max(200).nullable(),
  getIfExists: z.boolean(),
  timeoutMs: z.number().int().positive().max(MAX_TIMER_MS).nullable(),
  /** What it holds of its agent while it lives: `cpus` are slots kept from tasks (0: none, the default). */
  resources: Resources,
  /** Place it on an agent of this pool; null or absent: any. */
  pool: PoolName.nullable().optional(),
});
export type ActorSpec = z.infer<typeof ActorSpec>;

/** `scale(n, options)`: which pool (optional when the cluster has one). */
export const ScaleOptions = z.object({ pool: PoolName.optional() });
export type ScaleOptions = z.infer<typeof ScaleOptions>;

/** `adapt(options)`: a pool's bounds for adaptive scaling. */
export const AdaptSpec = z.object({
  pool: PoolName.nullable(),
  min: z.number().int().nonnegative().max(100_000),
  max: z.number().int().nonnegative().max(100_000),
  idleMs: z.number().int().min(10).max(MAX_TIMER_MS),
});
export type AdaptSpec = z.infer<typeof AdaptSpec>;
/** What `adapt` answers: the settings in force, with the pool's name. */
export const AdaptResult = z.object({ pool: z.string(), min: z.number(), max: z.number(), idleMs: z.number() });
export type AdaptResult = z.infer<typeof AdaptResult>;

/**
 * A call that runs in the service on its own (its client may leave): a `map` or `stream` (one task
 * per chunk of items) or a single `call`, every task's packed arguments at once.
 */
export const DetachSpec = TaskSpec.pick({ code: true, export: true, inline: true, timeoutMs: true, retries: true, retryExceptions: true, priority: true, resources: true, pool: true }).extend({
  kind: DetachKind,
  label: z.string().max(200),
  /** Items per task (a task of more than one gets the list of argument lists and answers a list). */
  chunkSize: z.number().int().positive().max(10_000_000),
  /** Each task's packed arguments, in input order. */
  items: z.array(Bytes).max(10_000_000),
});
export type DetachSpec = z.infer<typeof DetachSpec>;

/** What `collect` answers: each task's packed result in input order (a chunk task's is an array). */
export const Collected = z.object({ kind: DetachKind, chunkSize: z.number().int().positive(), results: z.array(Bytes) });
export type Collected = z.infer<typeof Collected>;

/**
 * What `collectNext` answers: the tasks settled after the first `from` (in completion order, as
 * many as fit one answer), and whether they are the last.
 */
export const CollectedPart = z.object({
  kind: DetachKind,
  chunkSize: z.number().int().positive(),
  settled: z.array(z.object({ task: z.number().int().nonnegative(), result: Bytes })),
  done: z.boolean(),
});
export type CollectedPart = z.infer<typeof CollectedPart>;

const method = <A extends z.ZodTuple, R extends z.ZodType>(args: A, result: R) => ({ args, result });

export const CoreMethods = {
  /** Runs a task; resolves with its packed result. */
  submit: method(z.tuple([TaskSpec]), Bytes),
  /**
   * Runs a task whose result stays on the cluster under `spec.keep` (a TaskRef); resolves once it
   * is queued. The caller holds one handle on the object.
   */
  submitRef: method(z.tuple([TaskSpec.extend({ keep: ObjectId })]), z.null()),
  /** Keeps a value (`cluster.put`) under the caller's id, with the ids of the refs inside it; the caller holds one handle. */
  put: method(z.tuple([ObjectId, Bytes, z.array(ObjectId).max(MAX_REFS)]), z.null()),
  /** The packed value of an object, once it exists (the producing task's error if it failed). */
  objectGet: method(z.tuple([ObjectId]), Bytes),
  /** Resolves once `count` of the objects are made (or failed), or after `timeoutMs`; the ids done by then. */
  objectWait: method(z.tuple([z.array(ObjectId).min(1).max(MAX_REFS), z.number().int().positive(), z.number().int().nonnegative().max(MAX_TIMER_MS).nullable()]), z.array(ObjectId)),
  /** Drops the caller's handles; an object no handle or pending task needs is freed everywhere. */
  objectFree: method(z.tuple([z.array(ObjectId).max(MAX_REFS)]), z.null()),
  /** Object counts and bytes: the coordinator's, and each agent's store. */
  objectStats: method(z.tuple([]), ObjectStats),
  /** Settles a task as cancelled: dropped if queued, stopped on its agent if running. */
  cancel: method(z.tuple([Id]), z.null()),
  /** Runs a task once on every ready agent; the packed results in `agents()` order. */
  broadcast: method(z.tuple([BroadcastSpec]), z.array(Bytes)),
  agents: method(z.tuple([]), z.array(AgentInfo)),
  pendingAgents: method(z.tuple([]), z.array(PendingAgent)),
  scale: method(z.tuple([z.number().int().nonnegative(), ScaleOptions]), z.null()),
  /** Turns adaptive scaling on for a pool (or changes it); answers the settings in force. */
  adapt: method(z.tuple([AdaptSpec]), AdaptResult),
  actorCreate: method(z.tuple([ActorSpec]), ActorInfo),
  /** Calls a method of an actor with packed arguments, the refs inside them and those of them only nested (absent: none, as an earlier client sends); resolves with the packed result. */
  actorCall: method(z.tuple([Id, z.string().min(1).max(256), Bytes, z.array(ObjectId).max(MAX_REFS), z.array(ObjectId).max(MAX_REFS).optional()]), Bytes),
  actorKill: method(z.tuple([Id]), z.null()),
  actorGet: method(z.tuple([z.string().min(1).max(200)]), ActorInfo.nullable()),
  actorList: method(z.tuple([]), z.array(ActorInfo)),
  /** Sends this caller every log line of one agent or job (null: every agent), whoever's task printed it. */
  followLogs: method(z.tuple([z.string().max(200).nullable()]), z.null()),
  /** Recent settled tasks of every client, newest first, from the engine's bounded record. */
  history: method(z.tuple([HistoryQuery]), TaskHistory),
  /** Starts a detached call in the service; resolves with its id at once. */
  detach: method(z.tuple([DetachSpec]), z.string()),
  /** Waits for a detached call to end and answers its results (RESULTS_EXPIRED once dropped). */
  collect: method(z.tuple([z.string().min(1).max(64)]), Collected),
  /**
   * The results of a detached call settled after the first `from`, in completion order; waits for
   * one if none is there yet. Rejects with the call's error once the results before it were read.
   */
  collectNext: method(z.tuple([z.string().min(1).max(64), z.number().int().nonnegative()]), CollectedPart),
  /** The detached calls the service runs or keeps results of. */
  detachedList: method(z.tuple([]), z.array(DetachedRow)),
  /** A fresh one-time login URL of the dashboard, and its metrics address; null without a dashboard. */
  dashboard: method(z.tuple([]), DashboardAccess.nullable()),
} as const;

export type CoreMethodName = keyof typeof CoreMethods;
export type CoreArgs<M extends CoreMethodName> = z.infer<(typeof CoreMethods)[M]['args']>;
export type CoreResult<M extends CoreMethodName> = z.infer<(typeof CoreMethods)[M]['result']>;

/** An implementation of every core method: the engine's (in process), or a connection's (over the wire). */
export type CoreHandlers = { [M in CoreMethodName]: (...args: CoreArgs<M>) => Promise<CoreResult<M>> };
