/**
 * Cluster.start() options → resolved options: parsed against the one options schema
 * (options-schema.ts), then every default applied, including those that depend on the backend and
 * this machine's cores. Every field of the result is set; every value has been checked.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { DEFAULT_MAX_FRAME_BYTES } from '../../protocol/version.js';
import type { LogEntry } from '../api/logs.js';
import { showOnly } from '../util/show-only.js';
import type { SshOptions } from '../backends/ssh/options.js';
import type { ResourceOptions } from '../backends/launchers/batch/index.js';
import type { KubernetesOptions } from './kubernetes-schema.js';
import { clusterOptionsSchema, type BackendName, type ClusterOptions } from './options-schema.js';
import { parseOptions } from './parse-options.js';
import type { SshHostOption } from './ssh-schema.js';

export type { BackendName, ClusterOptions } from './options-schema.js';
export type { SshHostOption } from './ssh-schema.js';

/** Adaptive scaling of one pool, with its default. */
export interface AdaptSettings {
  min: number;
  max: number;
  idleMs: number;
}

/** Default idle time before adaptive scaling stops an agent, ms. */
export const DEFAULT_ADAPT_IDLE_MS = 60_000;

/** One pool of a cluster: its name and its options (the cluster's, under the pool's own). */
export interface ResolvedPool {
  name: string;
  options: ResolvedPoolOptions;
}

/** The name of the one pool of a cluster that does not set `pools`. */
export const DEFAULT_POOL = 'default';

/** Options with every default applied and every value checked. */
export interface ResolvedClusterOptions extends Omit<ResolvedPoolOptions, 'backend'> {
  /** The backend; with several pools, their backends joined by '+' (`local+slurm`). */
  backend: string;
  /** Every pool, in the order given; one named 'default' when `pools` is not set. */
  pools: ResolvedPool[];
}

/** What one pool runs with (the cluster-wide settings included: each pool's launcher reads them). */
export interface ResolvedPoolOptions {
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
  objectStoreBytes: number;
  objectSpillBytes: number;
  inlineConcurrency: number;
  onLog: ((entry: LogEntry) => void) | null;
  historyEntries: number;
  historyBytes: number;
  /** null: no dashboard. */
  dashboard: { host: string; port: number } | null;
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
  kubernetes: KubernetesOptions;
  /** null: a fixed size (scale() only). */
  adapt: AdaptSettings | null;
  /** Custom resources each agent offers (CLUSTRIX_RESOURCES). */
  agentResources: Record<string, number>;
}

/** Parse → defaults. An invalid value is a ConfigError (`CONFIG_INVALID`) naming `options.<key>`. */
export function resolveClusterOptions(options: ClusterOptions = {}, cores = os.availableParallelism()): ResolvedClusterOptions {
  const { pools, ...o } = parseOptions(clusterOptionsSchema, options);
  // One token for the cluster: every pool's agents present it.
  const token = o.token ?? randomBytes(32).toString('hex');
  if (pools === undefined) {
    const only = resolvePool({ ...o, token }, cores);
    return showOnly<ResolvedClusterOptions>({ ...only, pools: [{ name: DEFAULT_POOL, options: only }] }, 'ClusterOptions', (r) => ({ backend: r.backend, agents: r.agents }));
  }
  const resolved = Object.entries(pools).map(([name, pool]) => ({ name, options: resolvePool({ ...o, ...definedOf(pool), token }, cores) }));
  const first = resolved[0]!.options;
  return showOnly<ResolvedClusterOptions>(
    {
      ...first,
      // What the cluster as a whole says of itself (cluster.backend, the service's status).
      backend: [...new Set(resolved.map((p) => p.options.backend))].join('+'),
      agents: resolved.reduce((n, p) => n + p.options.agents, 0),
      adapt: null,
      pools: resolved,
    },
    'ClusterOptions',
    (r) => ({ backend: r.backend, agents: r.agents, pools: r.pools.map((p) => p.name) }),
  );
}

function definedOf<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

type ParsedPool = Omit<ReturnType<typeof parseOptions<typeof clusterOptionsSchema>>, 'pools'>;

function resolvePool(o: ParsedPool & { token: string }, cores: number): ResolvedPoolOptions {
  const backend = o.backend ?? 'local';
  const local = backend === 'local';
  const agents = o.agents ?? (o.adapt ? o.adapt.min : local ? Math.max(1, Math.round(cores / 4)) : 1);
  let slots: number[];
  if (o.slots !== undefined) {
    slots = new Array<number>(Math.max(agents, 1)).fill(o.slots);
  } else if (!local) {
    slots = [];
  } else {
    // Spread the cores over the agents (some get one more) so agents × slots = cores, never more.
    const base = Math.max(1, Math.floor(cores / agents));
    const extra = cores > agents ? cores - base * agents : 0;
    slots = Array.from({ length: agents }, (_, i) => base + (i < extra ? 1 : 0));
  }
  // Unset: the backend listens only where its agents dial in (see backends.ts, remote-backends.ts).
  const host = o.host ?? null;
  // The token, inline SSH keys and passphrases live here: printed, it is a summary.
  return showOnly<ResolvedPoolOptions>({
    backend,
    agents,
    slots,
    host,
    port: o.port ?? 0,
    advertiseHost: o.advertiseHost ?? (host === null || host === '0.0.0.0' || host === '::' ? null : host),
    token: o.token,
    retries: o.retries ?? 3,
    heartbeatMs: o.heartbeatMs ?? 5_000,
    agentGraceMs: o.agentGraceMs ?? 60_000,
    startTimeoutMs: o.startTimeoutMs ?? 60_000,
    recoveryTimeoutMs: o.recoveryTimeoutMs ?? 120_000,
    maxPipelinePerSlot: o.maxPipelinePerSlot ?? 128,
    maxFrameBytes: o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    objectStoreBytes: o.objectStoreBytes ?? 1024 ** 3,
    objectSpillBytes: o.objectSpillBytes ?? 10 * 1024 ** 3,
    inlineConcurrency: o.inlineConcurrency ?? 64,
    onLog: o.onLog ?? null,
    historyEntries: o.historyEntries ?? 10_000,
    historyBytes: o.historyBytes ?? 16 * 1024 * 1024,
    dashboard: o.dashboard === undefined || o.dashboard === false ? null : { host: o.dashboard === true ? '127.0.0.1' : (o.dashboard.host ?? '127.0.0.1'), port: o.dashboard === true ? 0 : (o.dashboard.port ?? 0) },
    replaceLostAgents: o.replaceLostAgents ?? true,
    tls: o.tls === undefined || o.tls === false ? null : o.tls,
    ssh: o.ssh ?? null,
    hosts: o.hosts ?? [],
    resources: o.resources,
    setup: o.setup ?? [],
    node: o.node ?? (local ? process.execPath : 'node'),
    uploadNode: o.uploadNode ?? true,
    remoteDir: o.remoteDir ?? '~/.clustrix',
    binDir: o.binDir ?? '',
    jobName: o.jobName ?? 'clustrix',
    maxArraySize: o.maxArraySize ?? null,
    connect: o.connect ?? 'direct',
    relayHost: o.relayHost ?? null,
    slurm: o.slurm ?? {},
    pbs: o.pbs ?? {},
    sge: o.sge ?? {},
    kubernetes: o.kubernetes ?? {},
    adapt: o.adapt ? { min: o.adapt.min, max: o.adapt.max, idleMs: o.adapt.idleMs ?? DEFAULT_ADAPT_IDLE_MS } : null,
    agentResources: o.agentResources ?? {},
  }, 'ClusterOptions', (r) => ({ backend: r.backend, agents: r.agents }));
}
