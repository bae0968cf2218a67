import { Worker } from 'node:worker_threads';
import { withoutSecrets } from '../protocol/secret-env.js';

/** Where worker threads start: a file (from dist/), or source embedded in the one-file bundle. */
export type WorkerEntry = { file: URL } | { source: string };

/**
 * Starts a thread for tasks or an actor. Its env is given explicitly, without the secret variables:
 * a Worker copies process.env when it is created, and this does not rely on main.ts having
 * deleted them first (an embedding program may not have).
 */
export function startWorker(entry: WorkerEntry, workerData: object, extraEnv: Record<string, string> = {}): Worker {
  const env = { ...withoutSecrets(process.env), ...extraEnv };
  return 'file' in entry ? new Worker(entry.file, { workerData, env }) : new Worker(entry.source, { eval: true, workerData, env });
}
