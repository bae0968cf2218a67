/**
 * Rows the cluster API returns (agents, pending jobs, actors), one schema each: the public types
 * are derived from them, and the service protocol carries them as they are.
 */
import { z } from 'zod';

/** One connected agent, as `cluster.agents()` lists it. */
export const AgentInfo = z.object({
  id: z.string(),
  /** The pool that launched it ('default' in a cluster of one pool). */
  pool: z.string(),
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
  /** The pool that launched it. */
  pool: z.string(),
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
  /** The calls the latest checkpoint held on the coordinator had seen (a restart resumes there); null: none yet. */
  checkpointCalls: z.number().nullable(),
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

/**
 * One agent's traffic (frame bytes, so headers and task messages too): with the coordinator over
 * its link, and with other agents (object fetches, both ways) since the agent started.
 */
export const LinkBytes = z.object({
  agentId: z.string(),
  fromCoordinator: z.number(),
  toCoordinator: z.number(),
  fromPeers: z.number(),
  toPeers: z.number(),
});
export type LinkBytes = z.infer<typeof LinkBytes>;

/** `cluster.objectStats()`: the values kept on the cluster, as the coordinator's directory knows them. */
export const ObjectStats = z.object({
  /** Objects alive (made or being made). */
  objects: z.number(),
  /** Bytes the coordinator keeps itself (`put` values, small results). */
  coordinatorBytes: z.number(),
  /** Per agent: the objects it holds and their bytes. */
  agents: z.array(z.object({ agentId: z.string(), objects: z.number(), bytes: z.number() })),
  /** Tasks sent ahead to the agent making their ref arguments, parked there until the values land (since the cluster started). */
  parked: z.number(),
  /** Per connected agent: bytes of frames it received and sent since it connected, asked of it now. */
  links: z.array(LinkBytes),
});
export type ObjectStats = z.infer<typeof ObjectStats>;

/** How a task ended. */
export const TaskOutcomeKind = z.enum(['done', 'failed', 'cancelled']);
export type TaskOutcomeKind = z.infer<typeof TaskOutcomeKind>;

/** A failure as history keeps it: the code, the message and (for REMOTE_ERROR) the remote stack, cut short. */
export const ErrorSummary = z.object({
  code: z.string(),
  message: z.string(),
  stack: z.string().nullable(),
});
export type ErrorSummary = z.infer<typeof ErrorSummary>;

/** One settled task, as `cluster.history()` and `clustrix tasks` list it. */
export const TaskHistoryEntry = z.object({
  /** The caller's task id (unique per client while it runs). */
  taskId: z.string(),
  /** The call it belongs to: a map or stream's id, or the task's own for run/submit. */
  callId: z.string(),
  /** The function's name, or the map's label. */
  label: z.string(),
  /** Who submitted it: `this program` (embedded) or the service's client id and name. */
  client: z.string(),
  /** The agent it last ran on; null if it never started. */
  agentId: z.string().nullable(),
  submittedAt: z.number(),
  startedAt: z.number().nullable(),
  endedAt: z.number(),
  outcome: TaskOutcomeKind,
  error: ErrorSummary.nullable(),
});
export type TaskHistoryEntry = z.infer<typeof TaskHistoryEntry>;

/** What `cluster.history()` returns: newest first, and what the bounded record no longer holds. */
export const TaskHistory = z.object({
  entries: z.array(TaskHistoryEntry),
  /** Settled tasks since the engine started, including those evicted from the record. */
  total: z.number(),
  /** Entries dropped to stay within the record's bounds (count and bytes). */
  evicted: z.number(),
});
export type TaskHistory = z.infer<typeof TaskHistory>;

/** Which history entries to return. */
export const HistoryQuery = z.object({
  /** Most entries, newest first. */
  limit: z.number().int().positive().max(100_000),
  outcome: TaskOutcomeKind.nullable(),
  /** Only this call's tasks. */
  callId: z.string().max(200).nullable(),
});
export type HistoryQuery = z.infer<typeof HistoryQuery>;

/** Where the dashboard is and how to get in (`cluster.dashboard()`, `clustrix dashboard`). */
export const DashboardAccess = z.object({
  /** The dashboard's address (a session cookie is needed). */
  url: z.string(),
  /** Opens the dashboard once: the token in it is spent at the first use, or after 10 minutes. */
  loginUrl: z.string(),
  metricsUrl: z.string(),
  /** For Prometheus: `Authorization: Bearer <metricsToken>` on /metrics. */
  metricsToken: z.string(),
});
export type DashboardAccess = z.infer<typeof DashboardAccess>;

/** What started a detached call (`map`, `stream` or `call`): what `collect` answers follows from it. */
export const DetachKind = z.enum(['map', 'stream', 'call']);
export type DetachKind = z.infer<typeof DetachKind>;

/** A detached call, as `clustrix tasks` lists it. */
export const DetachedRow = z.object({
  id: z.string(),
  kind: DetachKind,
  label: z.string(),
  client: z.string(),
  state: z.enum(['running', 'done', 'failed']),
  tasks: z.number(),
  settled: z.number(),
  /** Bytes its results take on disk so far. */
  bytes: z.number(),
  startedAt: z.number(),
  endedAt: z.number().nullable(),
});
export type DetachedRow = z.infer<typeof DetachedRow>;
