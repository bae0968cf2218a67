import { isMainThread, workerData } from 'node:worker_threads';
import { Agent } from './agent.js';
import { AgentConfigError, readAgentConfig } from './config.js';
import { defineTaskGlobals } from './task-code.js';
import { runWorkerThread, WORKER_MARK } from './worker-thread.js';

// One entry file for both sides, so the bundle is a single agent.mjs: the pool starts its worker
// threads from this same file, and they take the branch below.
if (!isMainThread && (workerData as Record<string, unknown> | null)?.[WORKER_MARK]) {
  runWorkerThread();
} else if (isMainThread) {
  startAgent();
}

function startAgent(): void {
  let config;
  try {
    config = readAgentConfig();
  } catch (err) {
    if (err instanceof AgentConfigError) {
      process.stderr.write(`clustrix agent: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  defineTaskGlobals();
  const agent = new Agent(config, new URL(import.meta.url), (code, reason) => {
    if (code !== 0) process.stderr.write(`clustrix agent: exiting: ${reason}\n`);
    process.exit(code);
  });
  if (config.exitWithStdin) {
    // The local launcher holds our stdin open; EOF means the parent is gone, even after SIGKILL.
    process.stdin.on('end', () => void agent.exit(0, 'parent process exited'));
    process.stdin.on('error', () => void agent.exit(0, 'parent process exited'));
    process.stdin.resume();
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void agent.exit(0, signal));
  agent.start();
}
