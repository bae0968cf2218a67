import { z } from 'zod';
import { Bytes, Id, RemoteErrorInfo } from './common.js';
import { MAX_TIMER_MS } from './durations.js';
import { Dep, ObjectId } from './object-messages.js';

// ---- coordinator → agent ----

/** Construct an actor on this agent, on a thread of its own. */
export const ActorCreate = z.object({
  type: z.literal('actor-create'),
  actorId: Id,
  /** Hash of a Code message (a class's source, or a module). */
  code: Id,
  /** For modules: the exported class. */
  export: z.string().nullable(),
  /** msgpack (structured) of the constructor's argument list. */
  args: Bytes,
  /** Objects the arguments refer to: the agent fetches the top-level ones before constructing it. */
  deps: z.array(Dep).max(65_536).optional(),
  /** Calls that may run at once (async methods); 1 runs them strictly in order. */
  maxConcurrency: z.number().int().positive(),
  /** Send the actor's state (`actor-checkpoint`) after every this many calls; null: never. */
  checkpointEvery: z.number().int().positive().nullable(),
  /** Also send it when this many ms passed since the last one and calls were served since; null: never. */
  checkpointMs: z.number().int().positive().max(MAX_TIMER_MS).nullable(),
  /** A restart: the last checkpoint, given to the new instance after its constructor ran. */
  restore: z.object({ state: Bytes, calls: z.number().int().nonnegative() }).nullable(),
});
export type ActorCreate = z.infer<typeof ActorCreate>;

/** Call a method; answered with `done`/`failed` carrying the same id. */
export const ActorCall = z.object({
  type: z.literal('actor-call'),
  id: Id,
  actorId: Id,
  method: z.string().min(1).max(256),
  args: Bytes,
  timeoutMs: z.number().int().positive().max(MAX_TIMER_MS).nullable(),
  /** Objects the arguments refer to: the agent has them at hand before the call starts (in call order). */
  deps: z.array(Dep).max(65_536),
});
export type ActorCall = z.infer<typeof ActorCall>;

export const ActorKill = z.object({
  type: z.literal('actor-kill'),
  actorId: Id,
});
export type ActorKill = z.infer<typeof ActorKill>;

/** The answer to an `actor-request` this agent made on behalf of a task holding an actor handle. */
export const ActorReply = z.object({
  type: z.literal('actor-reply'),
  id: Id,
  value: Bytes.nullable(),
  error: RemoteErrorInfo.nullable(),
});
export type ActorReply = z.infer<typeof ActorReply>;

// ---- agent → coordinator ----

export const ActorReady = z.object({
  type: z.literal('actor-ready'),
  actorId: Id,
});
export type ActorReady = z.infer<typeof ActorReady>;

/** The actor is gone from this agent: its constructor threw, a call timed out and killed it, its thread died. */
export const ActorExited = z.object({
  type: z.literal('actor-exited'),
  actorId: Id,
  /** True when the constructor threw (no restart can help). */
  constructorFailed: z.boolean(),
  error: RemoteErrorInfo,
});
export type ActorExited = z.infer<typeof ActorExited>;

/** The actor's state after `calls` calls (its `checkpoint()`, or its own enumerable fields), packed. */
export const ActorCheckpoint = z.object({
  type: z.literal('actor-checkpoint'),
  actorId: Id,
  calls: z.number().int().nonnegative(),
  state: Bytes,
});
export type ActorCheckpoint = z.infer<typeof ActorCheckpoint>;

/** A task on this agent calls an actor through a handle it was given; the coordinator routes it. */
export const ActorRequest = z.object({
  type: z.literal('actor-request'),
  id: Id,
  actorId: Id,
  method: z.string().min(1).max(256),
  args: Bytes,
  /** Ids of the object refs inside `args`, and those of them only nested (as a program's `actorCall` gives them). */
  refs: z.array(ObjectId).max(65_536).optional(),
  lazy: z.array(ObjectId).max(65_536).optional(),
});
export type ActorRequest = z.infer<typeof ActorRequest>;
