import { workerData } from 'node:worker_threads';
import { runActorThread } from './actor-thread.js';
import { runWorkerThread } from './worker-thread.js';

// Entry of every agent thread (the bundle embeds this file's bundle): a task thread, or an actor's.
// Each thread has its own stack formatting: source maps are switched on here too.
process.setSourceMapsEnabled(true);
if ((workerData as { mode?: string } | null)?.mode === 'actor') runActorThread();
else runWorkerThread();
