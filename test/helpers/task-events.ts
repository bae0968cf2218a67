/**
 * Waiting on what a task says instead of sleeping: a task prints a marker line when it has got
 * where the test needs it (e.g. `started <marker>` before it spins), and the test awaits that line
 * through `cluster.on('log')`, the same event in both modes.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, LogEntry } from 'clustrix';

/** A marker no other task of the run prints. */
export function marker(what = 'marker'): string {
  return `${what}-${randomUUID()}`;
}

/**
 * Resolves with the first log line of `cluster` containing `text` that arrives from now on;
 * rejects after `timeoutMs` naming what was awaited. Start waiting before the task can print it.
 */
export function logged(cluster: Cluster, text: string, timeoutMs = 15_000): Promise<LogEntry> {
  return new Promise((resolve, reject) => {
    const listener = (entry: LogEntry): void => {
      if (!entry.text.includes(text)) return;
      clearTimeout(timer);
      cluster.off('log', listener);
      resolve(entry);
    };
    const timer = setTimeout(() => {
      cluster.off('log', listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for a task to print '${text}'`));
    }, timeoutMs);
    cluster.on('log', listener);
  });
}
