import { duration, int } from '../config/options.js';

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
}

export interface ResolvedTaskOptions {
  timeoutMs: number | null;
  retries: number;
  retryExceptions: number;
  signal: AbortSignal | null;
  inline: boolean;
}

const TASK_KEYS = new Set(['timeoutMs', 'retries', 'retryExceptions', 'signal', 'inline']);

export function resolveTaskOptions(options: TaskOptions | undefined, defaults: { retries: number }, extraKeys: ReadonlySet<string> = new Set()): ResolvedTaskOptions {
  const o = options ?? {};
  if (typeof o !== 'object' || o === null) throw new TypeError('task options must be an object');
  for (const key of Object.keys(o)) {
    if (!TASK_KEYS.has(key) && !extraKeys.has(key)) throw new TypeError(`Unknown task option '${key}' (known: ${[...TASK_KEYS, ...extraKeys].join(', ')})`);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) throw new TypeError('options.signal must be an AbortSignal');
  if (o.inline !== undefined && typeof o.inline !== 'boolean') throw new TypeError('options.inline must be a boolean');
  return {
    timeoutMs: o.timeoutMs === undefined ? null : duration(o.timeoutMs, 'timeoutMs', 1, 0),
    retries: int(o.retries, 'retries', 0, defaults.retries),
    retryExceptions: int(o.retryExceptions, 'retryExceptions', 0, 0),
    signal: o.signal ?? null,
    inline: o.inline ?? false,
  };
}
