/**
 * The options of `Cluster.start()`, as one zod schema: `ClusterOptions` is its input type, and the
 * same schema checks options passed in code and (derived in profile-schema.ts) the profiles of a
 * config file, so a value is refused with the same words wherever it was written.
 *
 * Every field's default is written next to it; the defaults that depend on the backend or on this
 * machine (agents, slots, node) are applied after parsing, by resolveClusterOptions (options.ts).
 */
import { z } from 'zod';
import type { LogEntry } from '../api/logs.js';
import { JOB_NAME } from '../backends/launchers/batch/options.js';
import { isSgeWord, pbsSchema, resourcesSchema, setupSchema, SGE_WORD, sgeSchema, slurmSchema } from './batch-schema.js';
import { kubernetesSchema } from './kubernetes-schema.js';
import { hostsSchema, sshSchema } from './ssh-schema.js';
import { flag, fn, int, line, mapping, ms, nonEmpty, nonNegativeInt, positiveInt, secret } from './schema-kit.js';

/** Backends, in the order messages list them. */
export const BACKENDS = ['local', 'ssh', 'slurm', 'pbs', 'sge', 'kubernetes'] as const;
/** Where agents run. */
export type BackendName = (typeof BACKENDS)[number];

/** Profile names: easy to type on a command line (`clustrix check hpc-gpu`) and unambiguous in a key path. */
export const profileNameSchema = z
  .string({ error: "a profile name (letters, digits, '_' and '-')" })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, { error: "a profile name (letters, digits, '_' and '-')" });

const JOB_NAME_TEXT = "a name of at most 32 letters, digits, '.', '_' or '-', starting with a letter";
const WILDCARD = /^(0\.0\.0\.0|::|\[::\])$/;
const RELAY_HOST = "the login node's address compute nodes reach (not a wildcard such as 0.0.0.0)";

/** `adapt`: the pool's size follows its work between min and max agents. */
export const adaptSchema = z
  .strictObject(
    {
      /** Fewest agents it shrinks to. */
      min: nonNegativeInt(),
      /** Most agents it grows to. */
      max: nonNegativeInt(),
      /** An agent idle this long is stopped (while above min), ms. @default 60000 */
      idleMs: ms(10).optional(),
    },
    mapping('adapt options (min, max, idleMs)'),
  )
  .superRefine((a, ctx) => {
    if (a.min > a.max) ctx.addIssue({ code: 'custom', path: ['max'], input: a.max, message: `at least min (${a.min})` });
  });
const AGENT_RESOURCES = 'a mapping of resource names to non-negative amounts, e.g. { licenses: 2 }';
const agentResourcesSchema = z
  .record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), z.number({ error: 'a non-negative number' }).finite({ error: 'a non-negative number' }).nonnegative({ error: 'a non-negative number' }), { error: AGENT_RESOURCES })
  .refine((r) => Object.keys(r).length <= 32, { error: AGENT_RESOURCES });

/** Pool names: they appear in `pool:` options, agents() rows and the dashboard. */
export const poolNameSchema = z
  .string({ error: "a pool name (letters, digits, '_' and '-')" })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, { error: "a pool name (letters, digits, '_' and '-', at most 64)" });

/**
 * Every option's schema, each with its doc comment: a plain object, so the comments reach the
 * emitted .d.ts and the hover of every `ClusterOptions` field.
 */
const clusterOptionFields = {
  /** Where agents run. @default 'local' (child processes on this machine) */
  backend: z.enum(BACKENDS).optional(),
  /**
   * Number of agents. @default local: about one agent per 4 cores, so agents × slots = cores;
   * remote: 1 (0 starts none: scale() or adapt() add them)
   */
  agents: nonNegativeInt().optional(),
  /** Worker threads per agent. @default local: cores divided among the agents; remote: the node's cores */
  slots: positiveInt().optional(),
  /** Take options from this profile of the config file (explicit options override it). */
  profile: profileNameSchema.optional(),
  /** The config file. @default ./clustrix.config.yaml, then ~/.config/clustrix/config.yaml */
  configFile: nonEmpty('a file path').optional(),
  /** The login node (slurm, pbs, sge, kubernetes via kubectl): omit to run scheduler commands on this machine. */
  ssh: sshSchema.optional(),
  /** `ssh` backend: the hosts agents start on (round robin). */
  hosts: hostsSchema.optional(),
  /** Batch job resources: nodes, cpusPerTask, memory, time, partition/queue, account, qos, gpus, extraDirectives. */
  resources: resourcesSchema.optional(),
  /** Shell lines run before each agent starts (module loads, exports, ...), verbatim, in order. */
  setup: setupSchema.optional(),
  /** The node command agents run with. @default 'node' (local: this process's node binary) */
  node: line().optional(),
  /**
   * When no usable node (>= 20) is found on the login node, upload this machine's node binary
   * (same OS and CPU only; cached by hash). @default true
   */
  uploadNode: flag().optional(),
  /** Remote directory for the agent cache, job scripts, logs and token files. @default '~/.clustrix' */
  remoteDir: line().optional(),
  /** Directory of the scheduler's commands on the login node. @default '' (PATH) */
  binDir: z.string({ error: 'a directory path (empty for PATH)' }).regex(/^[^\0\r\n]*$/, { error: 'a directory path on one line (empty for PATH)' }).optional(),
  /** Prefix of batch job names. @default 'clustrix' */
  jobName: z.string({ error: JOB_NAME_TEXT }).regex(JOB_NAME, { error: JOB_NAME_TEXT }).optional(),
  /**
   * slurm, pbs, sge: most elements in one job array. A scale step of n agents is one array
   * submission (n jobs), split into several when n is larger; 1 submits one job per agent.
   * @default SLURM: MaxArraySize of `scontrol show config`; PBS and SGE: 1000
   */
  maxArraySize: positiveInt().optional(),
  /**
   * How agents reach the coordinator: `direct` dials `advertiseHost:port`; `tunnel` dials a relay
   * on the login node that forwards over this program's SSH connection (for a laptop the compute
   * nodes cannot reach). @default 'direct'
   */
  connect: z.enum(['direct', 'tunnel']).optional(),
  /** `tunnel`: the login node's address compute nodes reach; the relay listens there. @default the login node's hostname */
  relayHost: line(RELAY_HOST).refine((h) => !WILDCARD.test(h), { error: RELAY_HOST }).optional(),
  /** SLURM specifics. */
  slurm: slurmSchema.optional(),
  /** PBS specifics. */
  pbs: pbsSchema.optional(),
  /** SGE specifics. */
  sge: sgeSchema.optional(),
  /** Kubernetes: image, namespace, context, requests, node selector, tolerations, ... */
  kubernetes: kubernetesSchema.optional(),
  /** Address the coordinator listens on. @default '127.0.0.1' for local agents */
  host: nonEmpty().optional(),
  /** Port the coordinator listens on. @default 0 (any free port) */
  port: int(0, 'an integer from 0 to 65535 (0: any free port)', 65_535).optional(),
  /** Address agents dial, when not `host` (e.g. behind NAT). @default host */
  advertiseHost: nonEmpty().optional(),
  /** Per-cluster secret agents authenticate with. @default 32 random bytes, hex */
  token: secret<string>('a string of at least 16 characters', (v) => typeof v === 'string' && v.length >= 16).optional(),
  /** Re-runs of a task whose agent was lost. @default 3 */
  retries: nonNegativeInt().optional(),
  /** How often the coordinator pings each agent, ms. @default 5000 */
  heartbeatMs: ms(50).optional(),
  /** Agents exit after the coordinator is unreachable this long, ms. @default 60000 */
  agentGraceMs: ms(100).optional(),
  /** How long start() and scale() wait for agents to connect, ms. @default 60000 */
  startTimeoutMs: ms(100).optional(),
  /**
   * How long work waits for a pool that has lost every agent to get one back, ms; then waiting
   * tasks and actor calls fail with `POOL_UNAVAILABLE` (the pool keeps trying). Covers replacement
   * jobs queued in a scheduler too: raise it for a busy queue. @default 120000
   */
  recoveryTimeoutMs: ms(100).optional(),
  /** Most tasks queued on one agent per slot beyond the running one. @default 128 */
  maxPipelinePerSlot: nonNegativeInt().optional(),
  /** Largest WebSocket frame, bytes. @default 256 MiB */
  maxFrameBytes: int(1024, 'an integer number of bytes >= 1024').optional(),
  /**
   * Bytes of refs' values (TaskRef results, `put` values, fetched copies) each agent keeps in
   * memory; past it the least recently used spill to the agent's local disk. @default 1 GiB
   */
  objectStoreBytes: nonNegativeInt().optional(),
  /** Bytes of spilled values each agent keeps on its local disk; past both, OBJECT_STORE_FULL. @default 10 GiB */
  objectSpillBytes: nonNegativeInt().optional(),
  /** Inline (event-loop) tasks one agent runs at once. @default 64 */
  inlineConcurrency: positiveInt().optional(),
  /** Receives each line of task output; default prints it with an `[agent task]` prefix. */
  onLog: fn<(entry: LogEntry) => void>('a function (entry) => void').optional(),
  /** Settled tasks the engine's history keeps (`cluster.history()`, `clustrix tasks`, the dashboard); the oldest go first. @default 10000 */
  historyEntries: nonNegativeInt().optional(),
  /** Most bytes the history holds (estimated: strings at 2 bytes a character); the oldest go first. @default 16 MiB */
  historyBytes: nonNegativeInt().optional(),
  /**
   * Serve the web dashboard and Prometheus `/metrics`: `true` (127.0.0.1, a free port) or
   * `{ host, port }`; `cluster.dashboard()` gives its one-time login URL. @default false (a service: true)
   */
  dashboard: z
    .union([flag(), z.strictObject({ host: nonEmpty().optional(), port: int(0, 'an integer from 0 to 65535 (0: any free port)', 65_535).optional() }, mapping('host and port'))], {
      error: 'true, false, or a mapping of host and port',
    })
    .optional(),
  /** Replace agents that die while the pool should have them. @default true */
  replaceLostAgents: flag().optional(),
  /**
   * Adaptive scaling of the pool: grow while work waits (up to `max`), shrink agents idle for
   * `idleMs` (down to `min`); `cluster.adapt()` sets it at run time. @default off
   */
  adapt: adaptSchema.optional(),
  /**
   * Custom resources each agent of the pool offers tasks, e.g. `{ licenses: 2 }` (they reach the
   * agent as CLUSTRIX_RESOURCES). cpus, memory and gpus are detected. @default {}
   */
  agentResources: agentResourcesSchema.optional(),
  /**
   * Serve `wss://`: `true` for a self-signed certificate made at start (needs `openssl`), or PEM
   * files. Agents pin the certificate's SHA-256 fingerprint. @default false
   */
  tls: z
    .union([flag(), z.strictObject({ cert: nonEmpty('a PEM file path'), key: nonEmpty('a PEM file path') }, mapping('cert and key PEM file paths'))], {
      error: 'true, false, or a mapping of cert and key PEM file paths',
    })
    .optional(),
};

/** What one pool of `pools` may set: where and how its agents run. Unset keys come from the cluster's options. */
export const POOL_KEYS = [
  'backend', 'agents', 'slots', 'ssh', 'hosts', 'resources', 'setup', 'node', 'uploadNode', 'remoteDir', 'binDir', 'jobName',
  'maxArraySize', 'connect', 'relayHost', 'slurm', 'pbs', 'sge', 'kubernetes', 'replaceLostAgents', 'adapt', 'agentResources',
] as const satisfies readonly (keyof typeof clusterOptionFields)[];
type PoolKey = (typeof POOL_KEYS)[number];
const poolFields = Object.fromEntries(POOL_KEYS.map((k) => [k, clusterOptionFields[k]])) as Pick<typeof clusterOptionFields, PoolKey>;

/** One pool of `pools`, without the checks between its options. */
export const poolOptionsShape: z.ZodObject<typeof poolFields, z.core.$strict> = z.strictObject(
  poolFields,
  mapping('pool options (backend, agents, ssh, resources, adapt, agentResources, ...)'),
);
const POOLS_TEXT = 'a mapping of pool names to pool options';

/** Every option, without the checks between options (clusterChecks): profile-schema.ts derives from this. */
export const clusterOptionsShape = z.strictObject(
  {
    ...clusterOptionFields,
    /**
     * Several pools in one cluster, by name: each with its own backend, launcher, size and
     * replacement (`{ cpu: { agents: 2 }, gpu: { backend: 'slurm', resources: { gpus: 1 }, agents: 0 } }`).
     * Work goes to any agent that fits it, or to one pool with the task option `pool`. Options
     * not set in a pool come from the cluster's. @default one pool, 'default', of the cluster's options
     */
    pools: z
      .record(poolNameSchema, poolOptionsShape.superRefine(clusterChecks), { error: POOLS_TEXT })
      .refine((p) => Object.keys(p).length >= 1 && Object.keys(p).length <= 64, { error: `${POOLS_TEXT} (1 to 64 pools)` })
      .optional(),
  },
  mapping('cluster options (backend, agents, ssh, resources, ...)'),
);

/** The options any backend and profile share in the checks below. */
interface Checked {
  backend?: BackendName | undefined;
  agents?: number | undefined;
  adapt?: unknown;
  pools?: unknown;
  resources?: { nodes?: number | undefined; qos?: string | undefined; queue?: string | undefined; partition?: string | undefined; account?: string | undefined } | undefined;
}

/**
 * The rules between options (a value allowed with one backend and not another), for code and files
 * alike. A profile is checked as a whole: one without `backend` is a local one.
 */
export function clusterChecks(o: Checked, ctx: z.core.$RefinementCtx): void {
  const backend = o.backend ?? 'local';
  const issue = (path: (string | number)[], input: unknown, message: string, sentence = false): void => {
    ctx.addIssue({ code: 'custom', path, input, message, ...(sentence ? { params: { sentence } } : {}) });
  };
  if (o.pools !== undefined) {
    // The size is a pool's: which pool a top-level one would mean is a guess.
    for (const key of ['agents', 'adapt'] as const) {
      if (o[key] !== undefined) issue([key], o[key], 'set per pool (pools.<name>.' + key + ') when pools are given', true);
    }
  }
  if (backend === 'local' && o.agents === 0 && o.adapt === undefined) issue(['agents'], 0, 'a positive integer for the local backend (0 only for a remote backend, grown later by scale() or adapt())');
  const r = o.resources;
  if (r === undefined || (backend !== 'pbs' && backend !== 'sge')) return;
  if (r.nodes !== undefined && r.nodes > 1) issue(['resources', 'nodes'], r.nodes, `1 with the ${backend} backend (its jobs run one agent each: ask for more agents instead)`);
  if (r.qos !== undefined) issue(['resources', 'qos'], r.qos, `a SLURM setting; ${backend} has no quality of service`, true);
  if (backend !== 'sge') return;
  const queueKey = r.partition !== undefined ? 'partition' : 'queue';
  for (const [key, value] of [[queueKey, r.partition ?? r.queue], ['account', r.account]] as const) {
    if (value !== undefined && !isSgeWord(value)) issue(['resources', key], value, SGE_WORD);
  }
}

/** `Cluster.start()` options, every value and every rule between them. */
export const clusterOptionsSchema = clusterOptionsShape.superRefine(clusterChecks);

/** Options of `Cluster.start()`. Every field is optional; defaults are written next to each. */
export type ClusterOptions = z.input<typeof clusterOptionsSchema>;
