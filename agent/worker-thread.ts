import { parentPort, workerData } from 'node:worker_threads';
import { installActorBridge, onActorReply } from './actor-bridge.js';
import { toErrorInfo } from './errors-info.js';
import { executeTask } from './execute.js';
import { ownDeps } from './objects/task-refs.js';
import { CodeCache, defineTaskGlobals } from './task-code.js';
import { interceptWrites, TaskOutput } from './task-output.js';
import type { FromThread, RunInThread, ThreadResult, ToThread } from './thread-messages.js';

/** Results posted in one message at most; a long queue still reports progress. */
const MAX_RESULTS_PER_POST = 64;

/**
 * Entry of one worker thread: runs its queue of tasks one at a time, in order, and forwards their
 * output (console and process.stdout/stderr.write) as whole lines tagged with the running task's id.
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
  const output = new TaskOutput((id, stream, text) => port.postMessage({ type: 'log', id, stream, text } satisfies FromThread));
  // console.trace is left alone: it prints its stack through console.error.
  console.log = console.info = console.debug = (...args: unknown[]) => output.console(current, 'stdout', args);
  console.error = console.warn = (...args: unknown[]) => output.console(current, 'stderr', args);
  for (const stream of ['stdout', 'stderr'] as const) {
    interceptWrites(process[stream], (chunk, encoding) => {
      output.write(current, stream, chunk, encoding);
      return true;
    });
  }

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
      output.begin(run.id);
      const started = performance.now();
      let result: ThreadResult;
      try {
        if (run.code) cache.add(run.code);
        const { value, refs } = await executeTask(cache, run.hash, run.export, run.args, run.chunk, run.deps);
        result = { type: 'done', id: run.id, value, refs, runMs: performance.now() - started };
        transfer.push(value.buffer as ArrayBuffer);
      } catch (err) {
        result = { type: 'failed', id: run.id, error: toErrorInfo(err) };
      }
      // The task's last partial line goes out before its result.
      output.end(run.id);
      results.push(result);
      current = null;
      if (queue.length === 0 || results.length >= MAX_RESULTS_PER_POST) flush();
    }
    draining = false;
  };

  port.on('message', (msg: ToThread) => {
    switch (msg.type) {
      case 'run':
        for (const run of msg.runs) {
          ownDeps(run.deps);
          queue.push(run);
        }
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
