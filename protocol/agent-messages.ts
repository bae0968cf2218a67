import { z } from 'zod';
import { ActorCheckpoint, ActorExited, ActorReady, ActorRequest } from './actor-messages.js';
import { Bytes, FailureKind, Id, RemoteErrorInfo } from './common.js';
import { Kept, ObjectCopied, ObjectData, ObjectId, ObjectPeer, ObjectRequest } from './object-messages.js';
import { Resources } from './resources.js';

/** First message on every connection; carries the credential and what the agent offers. */
export const Hello = z.object({
  type: z.literal('hello'),
  protocol: z.number().int(),
  token: z.string().min(1).max(1024),
  /** Assigned by the launcher so the coordinator can tie the agent to its job; null: ad hoc. */
  agentId: Id.nullable(),
  jobId: z.string().max(256).nullable(),
  host: z.string().max(256),
  pid: z.number().int(),
  cpus: z.number().int().nonnegative(),
  memoryBytes: z.number().nonnegative(),
  node: z.string().max(64),
  slots: z.number().int().positive(),
  inlineConcurrency: z.number().int().positive(),
  /** Time until the batch job's walltime ends, when the scheduler tells; null: unlimited. */
  walltimeLeftMs: z.number().nullable(),
  /** What it offers tasks (cpus = slots, memory, gpus, custom). Absent: its slots and memoryBytes. */
  resources: Resources.optional(),
  /** What this agent can do beyond the protocol version's baseline (`park`: parked tasks, `withdraw`). Absent: nothing. */
  features: z.array(z.string().max(64)).max(64).optional(),
});
export type Hello = z.infer<typeof Hello>;

export const Done = z.object({
  type: z.literal('done'),
  id: Id,
  /** msgpack (structured) of the result. */
  value: Bytes,
  /** How long the attempt ran on the agent; the scheduler sizes its pipeline with it. */
  runMs: z.number().nonnegative(),
  /** Ids of the refs inside the value (absent: none): the caller holds them once it has the value. */
  refs: z.array(ObjectId).max(65_536).optional(),
});
export type Done = z.infer<typeof Done>;

export const Failed = z.object({
  type: z.literal('failed'),
  id: Id,
  kind: FailureKind,
  error: RemoteErrorInfo,
});
export type Failed = z.infer<typeof Failed>;

/** A task's console output (or the agent's own, with id null). */
export const Log = z.object({
  type: z.literal('log'),
  id: Id.nullable(),
  stream: z.enum(['stdout', 'stderr']),
  text: z.string(),
});
export type Log = z.infer<typeof Log>;

export const Pong = z.object({
  type: z.literal('pong'),
  t: z.number(),
  rssBytes: z.number().nonnegative(),
  running: z.number().int().nonnegative(),
  /** Bytes of frames with other agents (object fetches, both ways) since the agent started. */
  peerBytesIn: z.number().int().nonnegative(),
  peerBytesOut: z.number().int().nonnegative(),
});
export type Pong = z.infer<typeof Pong>;

/** A parked task was dropped before it started (the answer to `withdraw`): it did not run here. */
export const Withdrawn = z.object({
  type: z.literal('withdrawn'),
  id: Id,
});
export type Withdrawn = z.infer<typeof Withdrawn>;

/** The agent will take no new work (walltime ending, signal): the coordinator stops sending it tasks. */
export const Draining = z.object({
  type: z.literal('draining'),
  reason: z.string(),
});
export type Draining = z.infer<typeof Draining>;

/** Everything an agent sends to a coordinator. */
export const AgentMessage = z.discriminatedUnion('type', [
  Hello, Done, Failed, Withdrawn, Log, Pong, Draining, ActorReady, ActorExited, ActorRequest, ActorCheckpoint, Kept, ObjectData, ObjectRequest, ObjectCopied, ObjectPeer,
]);
export type AgentMessage = z.infer<typeof AgentMessage>;
