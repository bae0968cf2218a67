/**
 * The dashboard's live protocol (browser ↔ coordinator or service), framed like every clustrix
 * socket (codec.ts: a msgpack array of messages per frame): the server pushes a snapshot when
 * something changed (at most twice a second) and log lines as they come; the browser sends
 * actions, each answered once. Both sides validate with these schemas.
 */
import { z } from 'zod';
import { ActorInfo, AgentInfo, DetachedRow, ErrorSummary, LogEntry, PendingAgent } from './rows.js';

/** One call (a map or stream, or a single run/submit) of one client: its tasks by state. */
export const CallRow = z.object({
  client: z.string(),
  callId: z.string(),
  label: z.string(),
  startedAt: z.number(),
  lastAt: z.number(),
  queued: z.number(),
  running: z.number(),
  done: z.number(),
  failed: z.number(),
  cancelled: z.number(),
});
export type CallRow = z.infer<typeof CallRow>;

/** A failed task with its remote stack. */
export const RecentError = ErrorSummary.extend({
  client: z.string(),
  callId: z.string(),
  label: z.string(),
  taskId: z.string(),
  agentId: z.string().nullable(),
  at: z.number(),
});
export type RecentError = z.infer<typeof RecentError>;

// ---- server → browser ------------------------------------------------------------------------

export const Snapshot = z.object({
  type: z.literal('snapshot'),
  /** Server time, ms. */
  at: z.number(),
  title: z.string(),
  agents: z.array(AgentInfo),
  pending: z.array(PendingAgent),
  calls: z.array(CallRow),
  actors: z.array(ActorInfo),
  errors: z.array(RecentError),
  /** Detached calls (a service's): running, or finished with their results kept for `collect(id)`. */
  detached: z.array(DetachedRow),
  /** Settled tasks since the start, by outcome, and what is queued and running now. */
  totals: z.object({ done: z.number(), failed: z.number(), cancelled: z.number(), queued: z.number(), running: z.number() }),
});
export type Snapshot = z.infer<typeof Snapshot>;

export const LogLines = z.object({ type: z.literal('logs'), entries: z.array(LogEntry).max(1000) });
export type LogLines = z.infer<typeof LogLines>;

export const ActionResult = z.object({ type: z.literal('action-result'), id: z.string(), ok: z.boolean(), message: z.string() });
export type ActionResult = z.infer<typeof ActionResult>;

export const DashboardServerMessage = z.discriminatedUnion('type', [Snapshot, LogLines, ActionResult]);
export type DashboardServerMessage = z.infer<typeof DashboardServerMessage>;

// ---- browser → server ------------------------------------------------------------------------

const ActionId = z.string().min(1).max(64);

export const CancelCall = z.object({ type: z.literal('cancel-call'), id: ActionId, client: z.string().min(1).max(300), callId: z.string().min(1).max(200) });
export const KillActor = z.object({ type: z.literal('kill-actor'), id: ActionId, actorId: z.string().min(1).max(200) });
export const ScalePool = z.object({ type: z.literal('scale'), id: ActionId, agents: z.number().int().nonnegative(), pool: z.string().min(1).max(64).optional() });

export const DashboardClientMessage = z.discriminatedUnion('type', [CancelCall, KillActor, ScalePool]);
export type DashboardClientMessage = z.infer<typeof DashboardClientMessage>;
