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
}

/** Parse → defaults. An invalid value is a ConfigError (`CONFIG_INVALID`) naming `options.<key>`. */
export function resolveClusterOptions(options: ClusterOptions = {}, cores = os.availableParallelism()): ResolvedClusterOptions {
  const o = parseOptions(clusterOptionsSchema, options);
  const backend = o.backend ?? 'local';
  const local = backend === 'local';
  const agents = o.agents ?? (local ? Math.max(1, Math.round(cores / 4)) : 1);
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
  return showOnly<ResolvedClusterOptions>({
    backend,
    agents,
    slots,
    host,
    port: o.port ?? 0,
    advertiseHost: o.advertiseHost ?? (host === null || host === '0.0.0.0' || host === '::' ? null : host),
    token: o.token ?? randomBytes(32).toString('hex'),
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
  }, 'ClusterOptions', (r) => ({ backend: r.backend, agents: r.agents }));
}
