/**
 * The dashboard's live protocol (browser ↔ coordinator or service), framed like every clustrix
 * socket (codec.ts): the server pushes a snapshot when something changed (at most a few a second)
 * and log lines as they come; the browser sends actions. Both sides validate with these schemas.
 */
import { z } from 'zod';
import { ErrorSummary } from './rows.js';

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
