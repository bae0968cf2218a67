import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { MAX_TIMER_MS } from '../../protocol/durations.js';
import { DEFAULT_MAX_FRAME_BYTES } from '../../protocol/version.js';
import type { LogEntry } from '../api/logs.js';
import { showOnly } from '../util/show-only.js';
import type { SshOptions } from '../backends/ssh/options.js';
import type { ResourceOptions } from '../backends/launchers/batch/index.js';
import type { KubernetesLauncherOptions } from '../backends/launchers/kubernetes/options.js';

/** Where agents run. */
export type BackendName = 'local' | 'ssh' | 'slurm' | 'pbs' | 'sge' | 'kubernetes';

/** A plain host for the `ssh` backend: an ssh_config alias or `user@host:port`, or full options. */
export type SshHostOption = string | (SshOptions & { maxAgents?: number });

/** Options of `Cluster.start()`. Every field is optional; defaults are written next to each. */
export interface ClusterOptions {
  /** Where agents run. @default 'local' (child processes on this machine) */
  backend?: BackendName;
  /** Take options from this profile of the config file (explicit options override it). */
  profile?: string;
  /** The config file. @default ./clustrix.config.yaml, then ~/.config/clustrix/config.yaml */
  configFile?: string;
  /** The login node (slurm, pbs, sge, kubernetes via kubectl): omit to run scheduler commands on this machine. */
  ssh?: SshOptions;
  /** `ssh` backend: the hosts agents start on (round robin). */
  hosts?: readonly SshHostOption[];
  /** Batch job resources: nodes, cpusPerTask, memory, time, partition/queue, account, qos, gpus, extraDirectives. */
  resources?: ResourceOptions;
  /** Shell lines run before each agent starts (module loads, exports, ...), verbatim, in order. */
  setup?: readonly string[];
  /** The node command agents run with. @default 'node' (local: this process's node binary) */
  node?: string;
  /**
   * When no usable node (>= 20) is found on the login node, upload this machine's node binary
   * (same OS and CPU only; cached by hash). @default true
   */
  uploadNode?: boolean;
  /** Remote directory for the agent cache, job scripts, logs and token files. @default '~/.clustrix' */
  remoteDir?: string;
  /** Directory of the scheduler's commands on the login node. @default '' (PATH) */
  binDir?: string;
  /** Prefix of batch job names. @default 'clustrix' */
  jobName?: string;
  /**
   * slurm, pbs, sge: most elements in one job array. A scale step of n agents is one array
   * submission (n jobs), split into several when n is larger; 1 submits one job per agent.
   * @default SLURM: MaxArraySize of `scontrol show config`; PBS and SGE: 1000
   */
  maxArraySize?: number;
  /**
   * How agents reach the coordinator: `direct` dials `advertiseHost:port`; `tunnel` dials a relay
   * on the login node that forwards over this program's SSH connection (for a laptop the compute
   * nodes cannot reach). @default 'direct'
   */
  connect?: 'direct' | 'tunnel';
  /** `tunnel`: the login node's address compute nodes reach; the relay listens there. @default the login node's hostname */
  relayHost?: string;
  /** SLURM specifics. */
  slurm?: { accounting?: 'auto' | 'slurmdbd' | 'jobcomp' | 'none' };
  /** PBS specifics. */
  pbs?: { resourceStyle?: 'torque' | 'pbspro' };
  /** SGE specifics. */
  sge?: { parallelEnvironment?: string; memoryResource?: string; gpuResource?: string; rejectImpossible?: boolean };
  /** Kubernetes: image, namespace, context, requests, node selector, tolerations, ... */
  kubernetes?: Omit<KubernetesLauncherOptions, 'connectUrl' | 'clusterName'>;
  /**
   * Number of agents. @default local: about one agent per 4 cores, so agents × slots = cores.
   */
  agents?: number;
  /** Worker threads per agent. @default local: cores divided among the agents; remote: the node's cores */
  slots?: number;
  /** Address the coordinator listens on. @default '127.0.0.1' for local agents */
  host?: string;
  /** Port the coordinator listens on. @default 0 (any free port) */
  port?: number;
  /** Address agents dial, when not `host` (e.g. behind NAT). @default host */
  advertiseHost?: string;
  /** Per-cluster secret agents authenticate with. @default 32 random bytes, hex */
  token?: string;
  /** Re-runs of a task whose agent was lost. @default 3 */
  retries?: number;
  /** How often the coordinator pings each agent, ms. @default 5000 */
  heartbeatMs?: number;
  /** Agents exit after the coordinator is unreachable this long, ms. @default 60000 */
  agentGraceMs?: number;
  /** How long start() and scale() wait for agents to connect, ms. @default 60000 */
  startTimeoutMs?: number;
  /**
   * How long work waits for a pool that has lost every agent to get one back, ms; then waiting
   * tasks and actor calls fail with `POOL_UNAVAILABLE` (the pool keeps trying). Covers replacement
   * jobs queued in a scheduler too: raise it for a busy queue. @default 120000
   */
  recoveryTimeoutMs?: number;
  /** Most tasks queued on one agent per slot beyond the running one. @default 128 */
  maxPipelinePerSlot?: number;
  /** Largest WebSocket frame, bytes. @default 256 MiB */
  maxFrameBytes?: number;
  /** Inline (event-loop) tasks one agent runs at once. @default 64 */
  inlineConcurrency?: number;
  /** Receives each line of task output; default prints it with an `[agent task]` prefix. */
  onLog?: (entry: LogEntry) => void;
  /** Replace agents that die while the pool should have them. @default true */
  replaceLostAgents?: boolean;
  /**
   * Serve `wss://`: `true` for a self-signed certificate made at start (needs `openssl`), or PEM
   * files. Agents pin the certificate's SHA-256 fingerprint. @default false
   */
  tls?: boolean | { cert: string; key: string };
}

/** Options with every default applied and every value checked. */
export interface ResolvedClusterOptions {
  backend: BackendName;
  agents: number;
  /** Slots per agent, cycled; empty: each agent uses its node's cores. */
  slots: number[];
  /** null: where the backend's agents dial in (loopback for local agents and tunnels, the advertised interface otherwise). */
  host: string | null;
  port: number;
  /** null: detected (the address this machine uses to reach the login node). */
  advertiseHost: string | null;
  token: string;
  retries: number;
  heartbeatMs: number;
  agentGraceMs: number;
  startTimeoutMs: number;
  recoveryTimeoutMs: number;
  maxPipelinePerSlot: number;
  maxFrameBytes: number;
  inlineConcurrency: number;
  onLog: ((entry: LogEntry) => void) | null;
  replaceLostAgents: boolean;
  tls: true | { cert: string; key: string } | null;
  ssh: SshOptions | null;
  hosts: readonly SshHostOption[];
  resources: ResourceOptions | undefined;
  setup: readonly string[];
  node: string;
  uploadNode: boolean;
  remoteDir: string;
  binDir: string;
  jobName: string;
  /** null: the scheduler's. */
  maxArraySize: number | null;
  connect: 'direct' | 'tunnel';
  relayHost: string | null;
  slurm: NonNullable<ClusterOptions['slurm']>;
  pbs: NonNullable<ClusterOptions['pbs']>;
  sge: NonNullable<ClusterOptions['sge']>;
  kubernetes: NonNullable<ClusterOptions['kubernetes']>;
}

const BACKENDS: readonly BackendName[] = ['local', 'ssh', 'slurm', 'pbs', 'sge', 'kubernetes'];

const KNOWN = new Set<string>([
  'backend', 'agents', 'slots', 'host', 'port', 'advertiseHost', 'token', 'retries', 'heartbeatMs', 'agentGraceMs',
  'startTimeoutMs', 'recoveryTimeoutMs', 'maxPipelinePerSlot', 'maxFrameBytes', 'inlineConcurrency', 'onLog', 'replaceLostAgents', 'tls',
  'profile', 'configFile', 'ssh', 'hosts', 'resources', 'setup', 'node', 'uploadNode', 'remoteDir', 'binDir', 'jobName',
  'maxArraySize', 'connect', 'relayHost', 'slurm', 'pbs', 'sge', 'kubernetes',
]);

export function resolveClusterOptions(options: ClusterOptions = {}, cores = os.availableParallelism()): ResolvedClusterOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('Cluster.start options must be an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new TypeError(`Unknown option '${key}' for Cluster.start (known: ${[...KNOWN].join(', ')})`);
  }
  const backend = options.backend ?? 'local';
  if (!BACKENDS.includes(backend)) throw new TypeError(`options.backend must be one of ${BACKENDS.map((b) => `'${b}'`).join(', ')}, got ${JSON.stringify(backend)}`);
  const local = backend === 'local';
  const agents = int(options.agents, 'agents', local ? 1 : 0, local ? Math.max(1, Math.round(cores / 4)) : 1);
  let slots: number[];
  if (options.slots !== undefined) {
    slots = new Array<number>(Math.max(agents, 1)).fill(int(options.slots, 'slots', 1, 1));
  } else if (!local) {
    slots = [];
  } else {
    // Spread the cores over the agents (some get one more) so agents × slots = cores, never more.
    const base = Math.max(1, Math.floor(cores / agents));
    const extra = cores > agents ? cores - base * agents : 0;
    slots = Array.from({ length: agents }, (_, i) => base + (i < extra ? 1 : 0));
  }
  const connect = options.connect ?? 'direct';
  if (connect !== 'direct' && connect !== 'tunnel') throw new TypeError(`options.connect must be 'direct' or 'tunnel', got ${JSON.stringify(connect)}`);
  // Unset: the backend listens only where its agents dial in (see backends.ts, remote-backends.ts).
  const host = options.host === undefined ? null : str(options.host, 'host', '');
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token.length < 16)) {
    throw new TypeError('options.token must be a string of at least 16 characters');
  }
  if (options.onLog !== undefined && typeof options.onLog !== 'function') throw new TypeError('options.onLog must be a function');
  if (options.replaceLostAgents !== undefined && typeof options.replaceLostAgents !== 'boolean') {
    throw new TypeError('options.replaceLostAgents must be a boolean');
  }
  // The token, inline SSH keys and passphrases live here: printed, it is a summary.
  return showOnly<ResolvedClusterOptions>({
    backend,
    agents,
    slots,
    host,
    port: int(options.port, 'port', 0, 0, 65_535),
    advertiseHost: options.advertiseHost === undefined ? (host === null || host === '0.0.0.0' || host === '::' ? null : host) : str(options.advertiseHost, 'advertiseHost', ''),
    token: options.token ?? randomBytes(32).toString('hex'),
    retries: int(options.retries, 'retries', 0, 3),
    heartbeatMs: duration(options.heartbeatMs, 'heartbeatMs', 50, 5_000),
    agentGraceMs: duration(options.agentGraceMs, 'agentGraceMs', 100, 60_000),
    startTimeoutMs: duration(options.startTimeoutMs, 'startTimeoutMs', 100, 60_000),
    recoveryTimeoutMs: duration(options.recoveryTimeoutMs, 'recoveryTimeoutMs', 100, 120_000),
    maxPipelinePerSlot: int(options.maxPipelinePerSlot, 'maxPipelinePerSlot', 0, 128),
    maxFrameBytes: int(options.maxFrameBytes, 'maxFrameBytes', 1024, DEFAULT_MAX_FRAME_BYTES),
    inlineConcurrency: int(options.inlineConcurrency, 'inlineConcurrency', 1, 64),
    onLog: options.onLog ?? null,
    replaceLostAgents: options.replaceLostAgents ?? true,
    tls: resolveTls(options.tls),
    ssh: objectOrNull(options.ssh, 'ssh') as SshOptions | null,
    hosts: list(options.hosts, 'hosts') as readonly SshHostOption[],
    resources: (objectOrNull(options.resources, 'resources') ?? undefined) as ResourceOptions | undefined,
    setup: list(options.setup, 'setup').map((l, i) => {
      if (typeof l !== 'string') throw new TypeError(`options.setup[${i}] must be a string (a shell line)`);
      return l;
    }),
    node: str(options.node, 'node', local ? process.execPath : 'node'),
    uploadNode: bool(options.uploadNode, 'uploadNode', true),
    remoteDir: str(options.remoteDir, 'remoteDir', '~/.clustrix'),
    binDir: options.binDir === undefined ? '' : str(options.binDir, 'binDir', ''),
    jobName: str(options.jobName, 'jobName', 'clustrix'),
    maxArraySize: options.maxArraySize === undefined ? null : int(options.maxArraySize, 'maxArraySize', 1, 1),
    connect,
    relayHost: options.relayHost === undefined ? null : str(options.relayHost, 'relayHost', ''),
    slurm: (objectOrNull(options.slurm, 'slurm') ?? {}) as ResolvedClusterOptions['slurm'],
    pbs: (objectOrNull(options.pbs, 'pbs') ?? {}) as ResolvedClusterOptions['pbs'],
    sge: (objectOrNull(options.sge, 'sge') ?? {}) as ResolvedClusterOptions['sge'],
    kubernetes: (objectOrNull(options.kubernetes, 'kubernetes') ?? {}) as ResolvedClusterOptions['kubernetes'],
  }, 'ClusterOptions', (o) => ({ backend: o.backend, agents: o.agents }));
}

function resolveTls(value: unknown): ResolvedClusterOptions['tls'] {
  if (value === undefined || value === false) return null;
  if (value === true) return true;
  if (typeof value === 'object' && value !== null && typeof (value as { cert?: unknown }).cert === 'string' && typeof (value as { key?: unknown }).key === 'string') {
    const { cert, key } = value as { cert: string; key: string };
    return { cert, key };
  }
  throw new TypeError('options.tls must be true, false, or { cert, key } paths to PEM files');
}

export function int(value: unknown, name: string, min: number, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw new TypeError(`options.${name} must be an integer ${range}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** A duration in ms: an integer Node's timers can hold (a longer one would fire at once). */
export function duration(value: unknown, name: string, min: number, fallback: number): number {
  return int(value, name, min, fallback, MAX_TIMER_MS);
}

function objectOrNull(value: unknown, name: string): object | null {
  if (value === undefined) return null;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`options.${name} must be an object`);
  return value;
}

function list(value: unknown, name: string): readonly unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError(`options.${name} must be an array`);
  return value;
}

function bool(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`options.${name} must be a boolean`);
  return value;
}

function str(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length === 0) throw new TypeError(`options.${name} must be a non-empty string`);
  return value;
}
