import { agentEntryPath } from './agent-path.js';
import { localEnvironment, type AgentEnvironment } from '../code/agent-environment.js';
import { agentConnectInfo, type AgentConnectInfo, type Launcher } from './launchers/launcher.js';
import { LocalLauncher } from './launchers/local.js';
import type { Logger } from '../util/logger.js';
import type { ResolvedPoolOptions } from '../config/options.js';

/** Everything a backend needs at run time, and what to release when the cluster closes. */
export interface Backend {
  launcher: Launcher;
  connect: AgentConnectInfo;
  /** Slots for the n-th agent launched; undefined: the agent uses its node's cores. */
  slotsFor: (ordinal: number) => number | undefined;
  /** Where the agents run, for cluster.module(): whether they read this machine's files, how to install packages there. */
  environment: AgentEnvironment;
  /** Releases SSH connections and tunnels (after the launcher has cancelled its jobs). */
  release(): Promise<void>;
}

export interface BackendContext {
  clusterId: string;
  /** Makes the coordinator listen on `host` (once); resolves with its port. */
  listen(host: string): Promise<number>;
  token: string;
  scheme: 'ws' | 'wss';
  certFingerprint: string | undefined;
  log: Logger;
}

/**
 * glibc malloc settings of agent processes, unless the environment sets them already. By default
 * glibc maps every block over 32 MiB fresh from the kernel and unmaps it when freed, so each large
 * value an agent receives, copies or packs pays a page fault per 4 KiB page: ~50 ms of a 100 MB
 * copy that takes ~10 ms in memory already mapped. These keep the main thread's large blocks in its
 * heap, reused (up to 512 MiB of free heap is kept, the rest returned): where the agent receives
 * values and copies a stored one for each task. JS objects are not affected (V8 maps its own heap).
 * Worker threads keep their own arenas: MALLOC_ARENA_MAX=1 would reuse their large blocks too, but
 * cost ~20 % of trivial-task throughput (one malloc lock for every thread).
 */
const AGENT_MALLOC_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_MAX_: '0',
  MALLOC_TRIM_THRESHOLD_: String(512 * 1024 * 1024),
};

/** Settings every agent gets, whatever starts it (no secrets among them). */
export function agentEnv(options: ResolvedPoolOptions): Record<string, string> {
  const malloc = Object.entries(AGENT_MALLOC_ENV).filter(([name]) => process.env[name] === undefined);
  return {
    ...Object.fromEntries(malloc),
    CLUSTRIX_GRACE_MS: String(options.agentGraceMs),
    CLUSTRIX_INLINE_CONCURRENCY: String(options.inlineConcurrency),
    CLUSTRIX_MAX_FRAME_BYTES: String(options.maxFrameBytes),
    ...(Object.keys(options.agentResources).length > 0 ? { CLUSTRIX_RESOURCES: JSON.stringify(options.agentResources) } : {}),
  };
}

/**
 * Builds the launcher of `options.backend` and works out the address agents dial. Remote backends
 * are loaded only when used: ssh2 and the Kubernetes client cost a local cluster nothing.
 */
export async function createBackend(options: ResolvedPoolOptions, context: BackendContext): Promise<Backend> {
  if (options.backend !== 'local') {
    const { createRemoteBackend } = await import('./remote-backends.js');
    return createRemoteBackend(options, context);
  }
  const port = await context.listen(options.host ?? '127.0.0.1');
  const url = `${context.scheme}://${formatHost(options.advertiseHost ?? '127.0.0.1')}:${port}`;
  return {
    launcher: new LocalLauncher({ agentEntry: agentEntryPath(), nodePath: options.node, env: agentEnv(options) }),
    connect: agentConnectInfo({ url, token: context.token, certFingerprint: context.certFingerprint }),
    slotsFor: (i) => options.slots[i % options.slots.length],
    environment: localEnvironment(),
    release: async () => undefined,
  };
}

export function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
