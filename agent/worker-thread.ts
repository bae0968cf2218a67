import { parentPort, workerData } from 'node:worker_threads';
import { installActorBridge, onActorReply } from './actor-bridge.js';
import { toErrorInfo } from './errors-info.js';
import { executeTask } from './execute.js';
import { installThreadObjectReads, onObjectBytes } from './objects/object-reads.js';
import { ownDeps } from './objects/task-refs.js';
import { CodeCache, defineTaskGlobals } from './task-code.js';
import { interceptWrites, TaskOutput } from './task-output.js';
import { expressEnd, runOfOne, type FromThread, type RunInThread, type ThreadResult, type ToThread } from './thread-messages.js';
import { PACKED_MAX_BYTES, RESULTS_PER_POST, ResultBatch, unpackRuns } from './thread-batch.js';
import { ThreadWriter } from './thread-writes.js';

const SENT = new Uint8Array(0);

/**
 * Batching pays for tasks of microseconds. A result waits for the rest of its batch at most this
 * long (ms, measured when the next task ends), and the result of a task that itself ran this long
 * goes out at once: the next task is likely as long, and an interactive call's result must not
 * wait for a batch's tasks.
 */
const MAX_BATCH_WAIT_MS = 1;

/**
 * Entry of one worker thread: runs its queue of tasks one at a time, in order, and forwards their
 * output (console and process.stdout/stderr.write) as whole lines tagged with the running task's id.
 */
export function runWorkerThread(): void {
  const port = parentPort;
  if (!port) throw new Error('runWorkerThread must run in a worker thread');
  const data = workerData as { cacheDir: string; writes?: SharedArrayBuffer | null };
  const cache = new CodeCache(data.cacheDir);
  const writer = data.writes ? new ThreadWriter(data.writes) : null;
  const queue: RunInThread[] = [];
  const results = new ResultBatch();
  /** When the oldest result in `results` was made. */
  let batchStart = 0;
  let current: string | null = null;
  let draining = false;

  defineTaskGlobals();
  installActorBridge((msg) => port.postMessage(msg satisfies FromThread));
  installThreadObjectReads((msg) => port.postMessage(msg satisfies FromThread));
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
    if (results.count === 0) return;
    const lone = results.takeLone();
    if (lone) {
      port.postMessage(lone.result satisfies FromThread, lone.transfer);
      return;
    }
    const batch = results.take();
    port.postMessage({ type: 'results', ...batch.results } satisfies FromThread, batch.transfer);
  };

  const drain = async (): Promise<void> => {
    draining = true;
    let lastYield = performance.now();
    while (queue.length > 0) {
      if (performance.now() - lastYield >= MAX_BATCH_WAIT_MS) {
        // Let the messages posted meanwhile in (an express run goes next, a skip drops a run).
        await new Promise<void>((r) => setImmediate(r));
        lastYield = performance.now();
        if (queue.length === 0) break;
      }
      const run = queue.shift()!;
      current = run.id;
      output.begin(run.id);
      const started = performance.now();
      let result: ThreadResult;
      let ended = 0;
      try {
        if (run.code) cache.add(run.code);
        // A small value may view msgpackr's buffer: the batch copies it (thread-batch.ts).
        const { value, refs } = await executeTask(run.id, cache, run.hash, run.export, run.args, run.chunk, run.deps, PACKED_MAX_BYTES);
        ended = performance.now();
        result = { type: 'done', id: run.id, value, refs, runMs: ended - started };
      } catch (err) {
        result = { type: 'failed', id: run.id, error: toErrorInfo(err) };
      }
      // The task's last partial line goes out before its result.
      const wrote = output.end(run.id);
      // A lone result of a task that printed nothing (its lines travel through the main thread,
      // and must arrive first) is written here: the main thread then only hears that it was.
      if (run.direct === true && !wrote && writer !== null && result.type === 'done' && result.refs.length === 0 && results.count === 0 && queue.length === 0 && writer.done(result.id, result.value, result.runMs)) {
        port.postMessage({ type: 'done', id: result.id, value: SENT, refs: [], runMs: result.runMs, sent: true } satisfies FromThread);
        current = null;
        continue;
      }
      ended ||= performance.now();
      if (results.count === 0) batchStart = ended;
      results.add(result);
      current = null;
      if (queue.length === 0 || results.count >= RESULTS_PER_POST || ended - started >= MAX_BATCH_WAIT_MS || ended - batchStart >= MAX_BATCH_WAIT_MS) flush();
    }
    flush(); // the rest may have been skipped while it yielded
    draining = false;
  };

  const enqueue = (run: RunInThread): void => {
    ownDeps(run.deps);
    // An idle thread starts this message's first run (so the pool counts it running): an
    // express run in the same message goes after it, as the pool put it.
    if (run.express) queue.splice(expressEnd(queue, draining ? 0 : 1), 0, run);
    else queue.push(run);
  };

  port.on('message', (msg: ToThread) => {
    switch (msg.type) {
      case 'run':
        for (const run of unpackRuns(msg)) enqueue(run);
        if (!draining) void drain();
        return;
      case 'one':
        enqueue(runOfOne(msg));
        if (!draining) void drain();
        return;
      case 'actor-reply':
        onActorReply(msg);
        return;
      case 'object-bytes':
        onObjectBytes(msg);
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
