import { format } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import { toErrorInfo } from './errors-info.js';
import { executeTask } from './execute.js';
import { CodeCache, defineTaskGlobals } from './task-code.js';
import type { FromThread, ToThread } from './thread-messages.js';

/** Marks a thread started by the agent's pool, so the shared entry file knows which side it is. */
export const WORKER_MARK = 'clustrix-agent-worker';

/** Entry of one worker thread: runs one task at a time, forwards its console output. */
export function runWorkerThread(): void {
  const port = parentPort;
  if (!port) throw new Error('runWorkerThread must run in a worker thread');
  const cache = new CodeCache((workerData as { cacheDir: string }).cacheDir);
  let current: string | null = null;
  const post = (msg: FromThread): void => port.postMessage(msg);

  defineTaskGlobals();
  const forward = (stream: 'stdout' | 'stderr') => (...args: unknown[]) => post({ type: 'log', id: current, stream, text: format(...args) });
  console.log = console.info = console.debug = forward('stdout');
  console.error = console.warn = console.trace = forward('stderr');

  port.on('message', (msg: ToThread) => {
    switch (msg.type) {
      case 'run':
        void run(msg);
        break;
    }
  });

  async function run(msg: ToThread): Promise<void> {
    current = msg.id;
    try {
      if (msg.code) cache.add(msg.code);
      const value = await executeTask(cache, msg.hash, msg.export, msg.args, msg.chunk);
      port!.postMessage({ type: 'done', id: msg.id, value } satisfies FromThread, [value.buffer as ArrayBuffer]);
    } catch (err) {
      post({ type: 'failed', id: msg.id, error: toErrorInfo(err) });
    } finally {
      current = null;
    }
  }
}
