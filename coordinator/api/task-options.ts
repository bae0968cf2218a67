import { z } from 'zod';
import { parseOptions } from '../config/parse-options.js';
import { poolNameSchema } from '../config/options-schema.js';
import { custom, flag, mapping, ms, nonNegativeInt, type Differences, type None } from '../config/schema-kit.js';

/** Options of one task, `remote()`, or every task of a `map`/`stream`. */
export interface TaskOptions {
  /** Limit on one attempt's run time on an agent (queueing not counted), ms. The thread is killed. */
  timeoutMs?: number;
  /** Re-runs after the task's agent is lost. @default the cluster's `retries` (3) */
  retries?: number;
  /** Re-runs after the function throws. @default 0 */
  retryExceptions?: number;
  /** Aborting cancels the task: dropped if queued, its thread terminated if running. */
  signal?: AbortSignal;
  /** Run on the agent's event loop instead of a worker thread: for async, I/O-bound work. @default false */
  inline?: boolean;
  /**
   * Higher runs first: before lower-priority work of this program and of other clients of the same
   * service. Within one priority, the next free slot goes to whoever holds the least share. @default 0
   */
  priority?: number;
  /**
   * Fair-share weight of the call (embedded) or of this client (connected; its latest task's
   * weight counts): with weight 2 it may hold twice the slots before others are preferred. @default 1
   */
  weight?: number;
  /**
   * What one task needs of its agent while it runs: `cpus` (slots, default 1), `gpus`, `memory`
   * (bytes), or a custom name agents offer (CLUSTRIX_RESOURCES). It runs only where it fits; if no
   * agent has that much, it fails at once with `ResourcesUnsatisfiableError`. @default one slot
   */
  resources?: TaskResources;
  /**
   * Run only on agents of this pool (a key of `pools`); an unknown name fails with
   * `UnknownPoolError`. @default any agent that fits `resources`
   */
  pool?: string;
}

/** Amounts by resource name. */
export interface TaskResources {
  cpus?: number;
  gpus?: number;
  memory?: number;
  [custom: string]: number | undefined;
}

export interface ResolvedTaskOptions {
  timeoutMs: number | null;
  retries: number;
  retryExceptions: number;
  signal: AbortSignal | null;
  inline: boolean;
  priority: number;
  weight: number;
  resources: Record<string, number> | null;
  pool: string | null;
}

/** The fields of TaskOptions, for map options to extend. */
export const taskOptionsShape = {
  timeoutMs: ms(1).optional(),
  retries: nonNegativeInt().optional(),
  retryExceptions: nonNegativeInt().optional(),
  signal: custom<AbortSignal>('an AbortSignal', (v) => v instanceof AbortSignal).optional(),
  inline: flag().optional(),
  priority: z.number({ error: 'a finite number' }).finite({ error: 'a finite number' }).optional(),
  weight: z.number({ error: 'a number above 0, at most 1000000' }).positive({ error: 'a number above 0, at most 1000000' }).max(1e6, { error: 'a number above 0, at most 1000000' }).optional(),
  resources: custom<TaskResources>(
    'a mapping of resource names (cpus, gpus, memory, or custom) to non-negative amounts, e.g. { gpus: 1 }',
    (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length <= 32 && Object.entries(v).every(([k, n]) => k.length > 0 && k.length <= 64 && (n === undefined || (typeof n === 'number' && Number.isFinite(n) && n >= 0))),
  ).optional(),
  pool: poolNameSchema.optional(),
};
const taskOptionsSchema = z.strictObject(taskOptionsShape, mapping('task options (timeoutMs, retries, retryExceptions, signal, inline, priority, weight, resources, pool)'));
type _TaskOptionsMirrored = None<Differences<TaskOptions, z.input<typeof taskOptionsSchema>>>;

/**
 * Checks task options (a ConfigError naming `options.<key>`) and applies the defaults. `extraKeys`
 * are accepted unchecked, for a caller that checks them itself.
 */
export function resolveTaskOptions(options: TaskOptions | undefined, defaults: { retries: number }, extraKeys: ReadonlySet<string> = new Set()): ResolvedTaskOptions {
  const schema = extraKeys.size === 0 ? taskOptionsSchema : taskOptionsSchema.extend(Object.fromEntries([...extraKeys].map((k) => [k, z.unknown()])));
  return taskDefaults(parseOptions(schema, options ?? {}), defaults);
}

/** Parsed task options with their defaults. */
export function taskDefaults(o: TaskOptions, defaults: { retries: number }): ResolvedTaskOptions {
  return {
    timeoutMs: o.timeoutMs ?? null,
    retries: o.retries ?? defaults.retries,
    retryExceptions: o.retryExceptions ?? 0,
    signal: o.signal ?? null,
    inline: o.inline ?? false,
    priority: o.priority ?? 0,
    weight: o.weight ?? 1,
    resources: o.resources ? definedAmounts(o.resources) : null,
    pool: o.pool ?? null,
  };
}

function definedAmounts(r: TaskResources): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(r)) if (v !== undefined) out[k] = v;
  return out;
}
