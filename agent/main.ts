import { Agent } from './agent.js';
import { AgentConfigError, dropSecretEnv, readAgentConfig } from './config.js';
import { defineTaskGlobals } from './task-code.js';
import { runRelay } from './relay.js'; // relay mode, see startAgent()
import type { WorkerEntry } from './start-worker.js';

/**
 * The bundle build defines this as the source of a small, separate worker bundle, so agent.cjs
 * stays one file and each worker thread parses only what it runs (not ws, zod, the agent).
 */
declare const __CLUSTRIX_WORKER_SOURCE__: string | undefined;
/** The bundle's entry (agent/boot.ts) when run from agent.cjs; undefined when run as dist/agent/main.js. */
declare const __clustrixHost: { reachedCoordinator(): void } | undefined;

// Named after the file that embeds it, so remote stacks say `agent.cjs#worker-thread:…`, not `[worker eval]`.
const workerEntry: WorkerEntry =
  typeof __CLUSTRIX_WORKER_SOURCE__ === 'string'
    ? { source: `${__CLUSTRIX_WORKER_SOURCE__}\n//# sourceURL=${new URL('#worker-thread', import.meta.url).href}\n` }
    : { file: new URL('./worker-main.js', import.meta.url) };

startAgent();

function startAgent(): void {
  // ---- relay mode (agent/relay.ts): the same bundle runs as the login node's tunnel relay ----
  if (process.env.CLUSTRIX_RELAY_LISTEN) {
    runRelay(process.env);
    return;
  }
  // ---- end relay mode ----
  let config;
  try {
    config = readAgentConfig();
  } catch (err) {
    if (err instanceof AgentConfigError) {
      process.stderr.write(`clustrix agent: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  } finally {
    // Before any task code or worker thread exists: both would see process.env (threads copy it).
    dropSecretEnv();
  }
  // Remote stacks of module tasks name the user's files (bundles carry their source maps inline).
  process.setSourceMapsEnabled(true);
  defineTaskGlobals();
  const agent = new Agent(config, workerEntry, (code, reason) => {
    if (code !== 0) process.stderr.write(`clustrix agent: exiting: ${reason}\n`);
    process.exit(code);
  });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void agent.exit(0, signal));
  // The local launcher holds our stdin open; EOF means the parent is gone, even after SIGKILL.
  // Watched once the hello has left: opening the pipe's stream was ~1 ms before it, and an EOF
  // waits in the pipe until read.
  const watchParent = (): void => {
    process.stdin.on('end', () => void agent.exit(0, 'parent process exited'));
    process.stdin.on('error', () => void agent.exit(0, 'parent process exited'));
    process.stdin.resume();
  };
  agent.start({
    ...(config.exitWithStdin ? { afterHello: watchParent } : {}),
    // The bundle's V8 code cache is worth writing once the agent got this far (agent/boot.ts).
    firstHello: () => (typeof __clustrixHost === 'undefined' ? undefined : __clustrixHost.reachedCoordinator()),
  });
}
