import { z } from 'zod';
import { ActorCall, ActorCreate, ActorKill, ActorReply } from './actor-messages.js';
import { Bytes, Id } from './common.js';
import { MAX_TIMER_MS } from './durations.js';
import { Dep, ObjectId, ObjectFree, ObjectGet, ObjectPut, ObjectReply } from './object-messages.js';

/** Sent once after a hello is accepted. */
export const Welcome = z.object({
  type: z.literal('welcome'),
  protocol: z.number().int(),
  agentId: Id,
  /** The coordinator pings this often; the agent treats silence of graceMs as the coordinator gone. */
  heartbeatMs: z.number().int().positive().max(MAX_TIMER_MS),
  /** The agent's object store: bytes kept in memory, then on its local disk. */
  objectStoreBytes: z.number().int().nonnegative(),
  objectSpillBytes: z.number().int().nonnegative(),
});
export type Welcome = z.infer<typeof Welcome>;

/** Code the agent caches by hash: a function's source, or an ES module bundle. */
export const Code = z.object({
  type: z.literal('code'),
  hash: Id,
  kind: z.enum(['function', 'module']),
  source: z.string(),
});
export type Code = z.infer<typeof Code>;

export const Task = z.object({
  type: z.literal('task'),
  id: Id,
  /** Hash of a Code message sent earlier on this connection. */
  code: Id,
  /** For modules: the export to call. */
  export: z.string().nullable(),
  /** msgpack (structured) of the argument list; of a list of argument lists when `chunk`. */
  args: Bytes,
  /** Run on the agent's event loop (async, I/O-bound) instead of a worker thread. */
  inline: z.boolean(),
  /** `args` holds many calls' arguments; the result is the list of their results. */
  chunk: z.boolean(),
  /** Limit on this attempt's run time, counted from when it starts on the agent. */
  timeoutMs: z.number().int().positive().max(MAX_TIMER_MS).nullable(),
  /** Keep the result in the agent's object store under this id (answered by `kept`, not `done`). */
  keep: ObjectId.nullable(),
  /** Objects the arguments refer to: the agent has them at hand before the task starts. */
  deps: z.array(Dep).max(65_536),
  /**
   * Run it before the tasks already waiting on the agent (their call holds slots; this one's holds
   * none, or it has a raised priority), so it waits for no pipelined window. Absent: false.
   */
  express: z.boolean().optional(),
  /** GPU devices to give it: its thread (and its children) see only those. Absent: none. */
  gpus: z.number().int().positive().max(1024).optional(),
  /**
   * Its deps are being made on this agent (or are kept here): hold it, taking no slot, until every
   * one is in the store, then run it (only to agents that advertise `park`). Absent: false.
   */
  parked: z.literal(true).optional(),
});
export type Task = z.infer<typeof Task>;

/** Drop a parked task that has not started (answered by `withdrawn`); one that started runs on. */
export const Withdraw = z.object({
  type: z.literal('withdraw'),
  id: Id,
});
export type Withdraw = z.infer<typeof Withdraw>;

export const Cancel = z.object({
  type: z.literal('cancel'),
  id: Id,
});
export type Cancel = z.infer<typeof Cancel>;

export const Ping = z.object({
  type: z.literal('ping'),
  t: z.number(),
});
export type Ping = z.infer<typeof Ping>;

/** The agent should finish nothing further and exit. */
export const Shutdown = z.object({
  type: z.literal('shutdown'),
  reason: z.string(),
});
export type Shutdown = z.infer<typeof Shutdown>;

/** Everything a coordinator sends to an agent. */
export const CoordinatorMessage = z.discriminatedUnion('type', [
  Welcome, Code, Task, Cancel, Withdraw, Ping, Shutdown, ActorCreate, ActorCall, ActorKill, ActorReply, ObjectPut, ObjectGet, ObjectFree, ObjectReply,
]);
export type CoordinatorMessage = z.infer<typeof CoordinatorMessage>;
