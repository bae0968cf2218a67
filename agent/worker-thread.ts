import { format } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import { installActorBridge, onActorReply } from './actor-bridge.js';
import { toErrorInfo } from './errors-info.js';
import { executeTask } from './execute.js';
import { CodeCache, defineTaskGlobals } from './task-code.js';
import type { FromThread, RunInThread, ThreadResult, ToThread } from './thread-messages.js';

/** Results posted in one message at most; a long queue still reports progress. */
const MAX_RESULTS_PER_POST = 64;

/**
 * Entry of one worker thread: runs its queue of tasks one at a time, in order, and forwards their
 * console output tagged with the running task's id.
 */
export function runWorkerThread(): void {
  const port = parentPort;
  if (!port) throw new Error('runWorkerThread must run in a worker thread');
  const cache = new CodeCache((workerData as { cacheDir: string }).cacheDir);
  const queue: RunInThread[] = [];
  let results: ThreadResult[] = [];
  let transfer: ArrayBuffer[] = [];
  let current: string | null = null;
  let draining = false;

  defineTaskGlobals();
  installActorBridge((msg) => port.postMessage(msg satisfies FromThread));
  const forward = (stream: 'stdout' | 'stderr') => (...args: unknown[]) =>
    port.postMessage({ type: 'log', id: current, stream, text: format(...args) } satisfies FromThread);
  console.log = console.info = console.debug = forward('stdout');
  console.error = console.warn = console.trace = forward('stderr');

  const flush = (): void => {
    if (results.length === 0) return;
    port.postMessage({ type: 'results', results } satisfies FromThread, transfer);
    results = [];
    transfer = [];
  };

  const drain = async (): Promise<void> => {
    draining = true;
    while (queue.length > 0) {
      const run = queue.shift()!;
      current = run.id;
      const started = performance.now();
      try {
        if (run.code) cache.add(run.code);
        const value = await executeTask(cache, run.hash, run.export, run.args, run.chunk);
        results.push({ type: 'done', id: run.id, value, runMs: performance.now() - started });
        transfer.push(value.buffer as ArrayBuffer);
      } catch (err) {
        results.push({ type: 'failed', id: run.id, error: toErrorInfo(err) });
      }
      current = null;
      if (queue.length === 0 || results.length >= MAX_RESULTS_PER_POST) flush();
    }
    draining = false;
  };

  port.on('message', (msg: ToThread) => {
    switch (msg.type) {
      case 'run':
        for (const run of msg.runs) queue.push(run);
        if (!draining) void drain();
        return;
      case 'actor-reply':
        onActorReply(msg);
        return;
      case 'skip': {
        const i = queue.findIndex((r) => r.id === msg.id);
        if (i < 0) return;
        const [skipped] = queue.splice(i, 1);
        // Later runs of the same code were sent without it: keep the code this run carried.
        try {
          if (skipped?.code) cache.add(skipped.code);
        } catch {
          // reported by the next run that needs it
        }
        return;
      }
    }
  });
}
