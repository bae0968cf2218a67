import { terminal } from './terminal.js';

/** One line of a task's console output, as it reaches the program. */
export interface LogEntry {
  agentId: string;
  /** The task that printed it; null for the agent's own messages. */
  taskId: string | null;
  stream: 'stdout' | 'stderr';
  text: string;
}

/**
 * Default sink: each line to this process's stdout/stderr, prefixed with agent and task, through
 * the terminal writer that keeps progress bars below the output.
 */
export function printLog(entry: LogEntry): void {
  const prefix = entry.taskId ? `[${entry.agentId} ${entry.taskId}] ` : `[${entry.agentId}] `;
  const text = entry.text.endsWith('\n') ? entry.text.slice(0, -1) : entry.text;
  terminal().write(entry.stream, `${prefix}${text.split('\n').join(`\n${prefix}`)}\n`);
}

/** Identical lines from other tasks within this window are counted, not printed. */
const DEDUP_WINDOW_MS = 5_000;
/** Most distinct lines remembered at once; past it, the oldest is summarized early. */
const DEDUP_MAX_LINES = 10_000;

interface Seen {
  first: LogEntry;
  repeats: number;
  agents: Set<string>;
  timer: NodeJS.Timeout;
}

/**
 * De-duplicates output as Ray does: a line printed by many tasks (often on many agents) appears
 * once, and when it stops repeating for `windowMs`, once more with `[repeated Nx across cluster]`.
 * Repeats within one task are printed as they come: they are that task's own output.
 */
export function dedupLogs(sink: (entry: LogEntry) => void, windowMs = DEDUP_WINDOW_MS): { write: (entry: LogEntry) => void; flush: () => void } {
  const seen = new Map<string, Seen>();
  const summarize = (key: string): void => {
    const s = seen.get(key);
    if (!s) return;
    seen.delete(key);
    clearTimeout(s.timer);
    if (s.repeats === 0) return;
    const text = s.first.text.endsWith('\n') ? s.first.text.slice(0, -1) : s.first.text;
    const where = s.agents.size > 1 ? ` on ${s.agents.size} agents` : '';
    sink({ ...s.first, text: `${text} [repeated ${s.repeats}x across cluster${where}]` });
  };
  const write = (entry: LogEntry): void => {
    const key = `${entry.stream}\0${entry.text}`;
    const s = seen.get(key);
    if (s && (s.first.taskId !== entry.taskId || s.first.agentId !== entry.agentId)) {
      s.repeats++;
      s.agents.add(entry.agentId);
      s.timer.refresh();
      return;
    }
    sink(entry);
    if (s) return;
    if (seen.size >= DEDUP_MAX_LINES) summarize(seen.keys().next().value!);
    const timer = setTimeout(() => summarize(key), windowMs);
    timer.unref();
    seen.set(key, { first: entry, repeats: 0, agents: new Set([entry.agentId]), timer });
  };
  const flush = (): void => {
    for (const key of [...seen.keys()]) summarize(key);
  };
  return { write, flush };
}
