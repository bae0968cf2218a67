import { z } from 'zod';
import type { HistoryQuery, TaskOutcomeKind } from '../../protocol/rows.js';
import { parseOptions } from '../config/parse-options.js';
import { int, line, mapping, type Differences, type None } from '../config/schema-kit.js';

/** Options of `cluster.history()`. */
export interface HistoryOptions {
  /** Most entries, newest first. @default 100 */
  limit?: number;
  /** Only tasks that ended so. @default every outcome */
  outcome?: TaskOutcomeKind;
  /** Only the tasks of this call (a map/stream's id, as entries name it). */
  callId?: string;
}

const historyOptionsSchema = z.strictObject(
  {
    limit: int(1, 'an integer from 1 to 100000', 100_000).optional(),
    outcome: z.enum(['done', 'failed', 'cancelled'], { error: "'done', 'failed' or 'cancelled'" }).optional(),
    callId: line().optional(),
  },
  mapping('history options (limit, outcome, callId)'),
);
type _HistoryOptionsMirrored = None<Differences<HistoryOptions, z.input<typeof historyOptionsSchema>>>;

/** Checks the options (a ConfigError naming `options.<key>`) and applies the defaults. */
export function historyQuery(options: HistoryOptions | undefined): HistoryQuery {
  const o = parseOptions(historyOptionsSchema, options ?? {});
  return { limit: o.limit ?? 100, outcome: o.outcome ?? null, callId: o.callId ?? null };
}
