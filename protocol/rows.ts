/**
 * Rows the cluster API returns (agents, pending jobs, actors), one schema each: the public types
 * are derived from them, and the service protocol carries them as they are.
 */
import { z } from 'zod';

/** One connected agent, as `cluster.agents()` lists it. */
export const AgentInfo = z.object({
  id: z.string(),
  host: z.string(),
  pid: z.number(),
  slots: z.number(),
  /** ready: taking work; draining: finishing its tasks before it leaves; closed: gone. */
  state: z.enum(['ready', 'draining', 'closed']),
  /** Tasks running or queued on it now. */
  busy: z.number(),
  tasksDone: z.number(),
  jobId: z.string().nullable(),
  rssBytes: z.number(),
  /** Time left before the batch job's walltime ends; null: unlimited. */
  walltimeLeftMs: z.number().nullable(),
  /** What it offers tasks: cpus (its slots), memory (bytes), gpus, custom names. */
  resources: z.record(z.string(), z.number()),
});
export type AgentInfo = z.infer<typeof AgentInfo>;

/** An agent launched and not connected yet, with its job (queued in the scheduler, or starting). */
export const PendingAgent = z.object({
  agentId: z.string(),
  jobId: z.string(),
});
export type PendingAgent = z.infer<typeof PendingAgent>;

/** Lifecycle of an actor: constructing, serving calls, being constructed again after a loss, gone for good. */
export const ActorState = z.enum(['starting', 'alive', 'restarting', 'dead']);
export type ActorState = z.infer<typeof ActorState>;

/** One row of `cluster.actors()`. */
export const ActorInfo = z.object({
  id: z.string(),
  name: z.string().nullable(),
  className: z.string(),
  agentId: z.string().nullable(),
  state: ActorState,
  callsServed: z.number(),
  restarts: z.number(),
  /** The calls its state was restored from at the last restart (a checkpoint); null: its constructor's. */
  restoredFrom: z.number().nullable(),
});
export type ActorInfo = z.infer<typeof ActorInfo>;

/** One line of a task's console output, as it reaches the program. */
export const LogEntry = z.object({
  agentId: z.string(),
  /** The task that printed it; null for the agent's own messages. */
  taskId: z.string().nullable(),
  stream: z.enum(['stdout', 'stderr']),
  text: z.string(),
});
export type LogEntry = z.infer<typeof LogEntry>;

/** `cluster.objectStats()`: the values kept on the cluster, as the coordinator's directory knows them. */
export const ObjectStats = z.object({
  /** Objects alive (made or being made). */
  objects: z.number(),
  /** Bytes the coordinator keeps itself (`put` values, small results). */
  coordinatorBytes: z.number(),
  /** Per agent: the objects it holds and their bytes. */
  agents: z.array(z.object({ agentId: z.string(), objects: z.number(), bytes: z.number() })),
});
export type ObjectStats = z.infer<typeof ObjectStats>;
