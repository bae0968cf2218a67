/**
 * What a profile of the config file may hold: the options of `Cluster.start()` that make sense in a
 * file, as strict zod schemas. Strict, because a misspelt key (`cpusPerTsk`) that is silently
 * ignored costs a user a queued job that asked for the wrong thing.
 *
 * Left out on purpose:
 * - `onLog`: a function has no YAML form.
 * - `profile`, `configFile`: a profile does not name another profile or file.
 * - `token`, `ssh.privateKey`, `ssh.passphrase`: a config file is shared and committed; secrets are
 *   rejected with a message that says where they belong instead.
 *
 * Durations are numbers of milliseconds only (`heartbeatMs: 5000`), the unit their names end in; no
 * '5s' strings, so a value in a file means what it means in code. (`resources.time` is not a
 * duration of ours but the scheduler's walltime: minutes or 'HH:MM:SS', as in code.)
 *
 * Every leaf says what it accepts in its error message ('a positive integer'), which the file
 * loader turns into `expected a positive integer, got "eight"`. Ranges mirror the checks the
 * options pipeline and launchers run again at start (those stay the authority); where a launcher
 * exports its parser (memory, walltime) the schema calls it rather than copying it.
 */
import { z } from 'zod';
import { MAX_TIMER_MS } from '../../protocol/durations.js';
import type { BackendName, ClusterOptions } from './options.js';
import type { SshOptions } from '../backends/ssh/options.js';
import { parseMemoryMb, parseWalltimeSeconds, type ResourceOptions } from '../backends/launchers/batch/resources.js';

/** Compiles only when T is assignable to U. */
type Assignable<T extends U, U> = T;
/** Compiles only when T is `never`: "no key was forgotten". */
type None<T extends never> = T;

const nonEmpty = (what = 'a non-empty string') => z.string({ error: what }).min(1, { error: what });
const int = (min: number, what: string, max = Number.MAX_SAFE_INTEGER) =>
  z.int({ error: what }).min(min, { error: what }).max(max, { error: what });
const positiveInt = () => int(1, 'a positive integer');
const nonNegativeInt = () => int(0, 'a non-negative integer');
/** Durations: whole milliseconds only (see the file comment). */
const ms = (min: number) => int(min, `a whole number of milliseconds from ${min} to ${MAX_TIMER_MS} (the longest timer Node can set)`, MAX_TIMER_MS);
const flag = () => z.boolean({ error: 'true or false' });
const strings = (what = 'a list of strings') => z.array(z.string({ error: 'a string' }), { error: what });
const stringMap = (what: string) => z.record(z.string(), z.string({ error: 'a string' }), { error: what });
const oneOrMore = (what: string) => z.union([nonEmpty(what), z.array(nonEmpty(what), { error: what }).min(1, { error: what })], { error: what });
/** A key a file must not hold; the message is shown as is, so it says why and what to do instead. */
const forbidden = (why: string) => z.never({ error: why });
const mapping = (what: string) => ({ error: `a mapping of ${what}` });

/** Backends, in the order messages list them. */
export const BACKENDS = ['local', 'ssh', 'slurm', 'pbs', 'sge', 'kubernetes'] as const;
type _EveryBackendListed = None<Exclude<BackendName, (typeof BACKENDS)[number]>>;

const sshShape = {
  host: nonEmpty('a host name, address or ssh_config Host alias'),
  port: int(1, 'an integer from 1 to 65535', 65_535).optional(),
  user: nonEmpty().optional(),
  identityFile: oneOrMore('a key file path, or a list of them').optional(),
  privateKey: forbidden(
    'not allowed in a config file: a private key does not belong in a shared file; point identityFile at the key file ' +
      '(an encrypted key is unlocked by ssh-agent or the CLUSTRIX_SSH_PASSPHRASE environment variable)',
  ).optional(),
  passphrase: forbidden(
    'not allowed in a config file: a secret does not belong in a shared file; set the CLUSTRIX_SSH_PASSPHRASE ' +
      'environment variable, or load the identityFile key into ssh-agent',
  ).optional(),
  identitiesOnly: flag().optional(),
  agent: z.union([nonEmpty('an ssh-agent socket path, or false for none'), z.literal(false)], { error: 'an ssh-agent socket path, or false for none' }).optional(),
  proxyJump: nonEmpty("'[user@]host[:port]', comma separated, or 'none'").optional(),
  knownHostsFile: oneOrMore('a known_hosts file path, or a list of them').optional(),
  // Mirrors ssh/options.ts: the form `ssh-keygen -lf` prints.
  hostKeyFingerprint: z
    .string({ error: "a fingerprint like 'SHA256:' followed by 43 base64 characters" })
    .regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, { error: "a fingerprint like 'SHA256:' followed by 43 base64 characters" })
    .optional(),
  keepaliveIntervalMs: ms(0).optional(),
  keepaliveCountMax: nonNegativeInt().optional(),
  connectTimeoutMs: ms(0).optional(),
  configFile: z.union([nonEmpty('an ssh config file path, or false for none'), z.literal(false)], { error: 'an ssh config file path, or false for none' }).optional(),
};

/** `ssh`: the login node (slurm, pbs, sge) or the connection options of one host. */
export const sshSchema = z.strictObject(sshShape, mapping('ssh options (host, port, user, identityFile, ...)'));
type _SshKeysCovered = None<Exclude<keyof SshOptions, keyof z.infer<typeof sshSchema>>>;

/** One `hosts` entry: an ssh_config alias or `user@host:port`, or full ssh options and a cap. */
export const hostSchema = z.union(
  [
    nonEmpty(),
    z.strictObject({ ...sshShape, maxAgents: positiveInt().optional() }, mapping('ssh options and maxAgents')),
  ],
  { error: "a host ('alias' or 'user@host:port') or a mapping of ssh options" },
);

/** Accepts exactly what the batch launchers' own parser accepts, by calling it. */
function parses(parse: (value: unknown, path: string) => number): (value: number | string) => boolean {
  return (value) => {
    try {
      parse(value, '');
      return true;
    } catch {
      return false;
    }
  };
}
const MEMORY = "a positive number of MB or a size such as '4G' or '512M'";
const WALLTIME = "a positive number of minutes, 'HH:MM:SS' or 'D-HH:MM:SS'";

/** `resources`: what each batch job asks the scheduler for. */
export const resourcesSchema = z.strictObject(
  {
    nodes: positiveInt().optional(),
    cpusPerTask: positiveInt().optional(),
    memory: z.union([z.number(), z.string()], { error: MEMORY }).refine(parses(parseMemoryMb), { error: MEMORY }).optional(),
    time: z.union([z.number(), z.string()], { error: WALLTIME }).refine(parses(parseWalltimeSeconds), { error: WALLTIME }).optional(),
    partition: nonEmpty().optional(),
    queue: nonEmpty().optional(),
    account: nonEmpty().optional(),
    qos: nonEmpty().optional(),
    gpus: positiveInt().optional(),
    extraDirectives: strings().optional(),
  },
  mapping('job resources (nodes, cpusPerTask, memory, time, ...)'),
);
type _ResourceKeysCovered = None<Exclude<keyof ResourceOptions, keyof z.infer<typeof resourcesSchema>>>;

// Mirrors launchers/kubernetes/options.ts; DNS names and label syntax are left to that launcher.
const QUANTITY = /^(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const quantity = (what: string) =>
  z.union([z.number({ error: what }).positive({ error: what }), z.string({ error: what }).regex(QUANTITY, { error: what })], { error: what });
const CPU = "a positive number of cores or a Kubernetes quantity such as '500m'";
const MEMORY_QUANTITY = "a Kubernetes quantity such as '4Gi'";

const tolerationSchema = z.strictObject(
  {
    key: nonEmpty().optional(),
    operator: z.enum(['Exists', 'Equal']).optional(),
    value: z.string({ error: 'a string' }).optional(),
    effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
    tolerationSeconds: nonNegativeInt().optional(),
  },
  mapping('toleration fields (key, operator, value, effect, tolerationSeconds)'),
);

/** `kubernetes`: the agent pods. `connectUrl` and `clusterName` are per run, not per profile. */
export const kubernetesSchema = z.strictObject(
  {
    kubeconfig: nonEmpty().optional(),
    context: nonEmpty().optional(),
    inCluster: flag().optional(),
    namespace: nonEmpty().optional(),
    image: nonEmpty().optional(),
    imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
    imagePullSecrets: strings().optional(),
    command: strings('a non-empty list of strings').min(1, { error: 'a non-empty list of strings' }).optional(),
    serviceAccountName: nonEmpty().optional(),
    cpu: quantity(CPU).optional(),
    cpuLimit: quantity(`${CPU}, or null for none`).nullable().optional(),
    memory: z.string({ error: MEMORY_QUANTITY }).regex(QUANTITY, { error: MEMORY_QUANTITY }).optional(),
    memoryLimit: z.string({ error: `${MEMORY_QUANTITY}, or null for none` }).regex(QUANTITY, { error: `${MEMORY_QUANTITY}, or null for none` }).nullable().optional(),
    gpus: nonNegativeInt().optional(),
    gpuResource: nonEmpty().optional(),
    nodeSelector: stringMap('node labels (name: value)').optional(),
    tolerations: z.array(tolerationSchema, { error: 'a list of tolerations' }).optional(),
    labels: stringMap('labels (name: value)').optional(),
    env: stringMap('environment variables (NAME: value)').optional(),
    activeDeadlineSeconds: int(1, 'a positive integer number of seconds, or null for none').nullable().optional(),
    ttlSecondsAfterFinished: int(0, 'a non-negative integer number of seconds, or null to keep Jobs').nullable().optional(),
    backoffLimit: nonNegativeInt().optional(),
    stuckTimeoutMs: ms(0).optional(),
  },
  mapping('kubernetes options (image, namespace, cpu, memory, ...)'),
);
type _KubernetesKeysCovered = None<Exclude<keyof NonNullable<ClusterOptions['kubernetes']>, keyof z.infer<typeof kubernetesSchema>>>;

/** One profile: the `Cluster.start()` options it sets. */
export const profileSchema = z.strictObject(
  {
    backend: z.enum(BACKENDS).optional(),
    agents: positiveInt().optional(),
    slots: positiveInt().optional(),
    ssh: sshSchema.optional(),
    hosts: z.array(hostSchema, { error: 'a list of hosts' }).min(1, { error: 'a non-empty list of hosts' }).optional(),
    resources: resourcesSchema.optional(),
    setup: strings('a list of shell lines').optional(),
    node: nonEmpty().optional(),
    uploadNode: flag().optional(),
    remoteDir: nonEmpty().optional(),
    binDir: z.string({ error: 'a directory path (empty for PATH)' }).optional(),
    // Mirrors launchers/batch/options.ts: the subset of names every scheduler accepts.
    jobName: z
      .string({ error: "a name of at most 32 letters, digits, '.', '_' or '-', starting with a letter" })
      .regex(/^[A-Za-z][A-Za-z0-9._-]{0,31}$/, { error: "a name of at most 32 letters, digits, '.', '_' or '-', starting with a letter" })
      .optional(),
    maxArraySize: positiveInt().optional(),
    connect: z.enum(['direct', 'tunnel']).optional(),
    relayHost: nonEmpty().optional(),
    slurm: z.strictObject({ accounting: z.enum(['auto', 'slurmdbd', 'jobcomp', 'none']).optional() }, mapping('slurm options (accounting)')).optional(),
    pbs: z.strictObject({ resourceStyle: z.enum(['torque', 'pbspro']).optional() }, mapping('pbs options (resourceStyle)')).optional(),
    sge: z
      .strictObject(
        {
          parallelEnvironment: nonEmpty().optional(),
          memoryResource: nonEmpty().optional(),
          gpuResource: nonEmpty().optional(),
          rejectImpossible: flag().optional(),
        },
        mapping('sge options (parallelEnvironment, memoryResource, gpuResource, rejectImpossible)'),
      )
      .optional(),
    kubernetes: kubernetesSchema.optional(),
    host: nonEmpty().optional(),
    port: int(0, 'an integer from 0 to 65535 (0: any free port)', 65_535).optional(),
    advertiseHost: nonEmpty().optional(),
    token: forbidden(
      'not allowed in a config file: a secret does not belong in a shared file; leave it out (each cluster makes ' +
        'its own random token), or pass token to Cluster.start() from the environment',
    ).optional(),
    retries: nonNegativeInt().optional(),
    // The minimums below are resolveClusterOptions' (options.ts).
    heartbeatMs: ms(50).optional(),
    agentGraceMs: ms(100).optional(),
    startTimeoutMs: ms(100).optional(),
    recoveryTimeoutMs: ms(100).optional(),
    maxPipelinePerSlot: nonNegativeInt().optional(),
    maxFrameBytes: int(1024, 'an integer number of bytes >= 1024').optional(),
    inlineConcurrency: positiveInt().optional(),
    replaceLostAgents: flag().optional(),
    tls: z
      .union([flag(), z.strictObject({ cert: nonEmpty('a PEM file path'), key: nonEmpty('a PEM file path') }, mapping('cert and key PEM file paths'))], {
        error: 'true, false, or a mapping of cert and key PEM file paths',
      })
      .optional(),
  },
  mapping('cluster options (backend, agents, ssh, resources, ...)'),
);

/**
 * The options one profile sets. The `Assignable` constraint is the compile-time guarantee that
 * whatever the schema accepts is valid `ClusterOptions`: change a type on either side and this
 * line stops compiling.
 */
export type ProfileOptions = Assignable<z.infer<typeof profileSchema>, Partial<ClusterOptions>>;

/** Options with no place in a file (see the file comment). */
type NotInFiles = 'onLog' | 'profile' | 'configFile';
/** The other direction: a new `ClusterOptions` key must be added to the schema or to NotInFiles. */
type _EveryOptionCovered = None<Exclude<keyof ClusterOptions, keyof ProfileOptions | NotInFiles>>;

/** Profile names: easy to type on a command line (`clustrix check hpc-gpu`) and unambiguous in a key path. */
export const profileNameSchema = z
  .string({ error: "a profile name (letters, digits, '_' and '-')" })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, { error: "a profile name (letters, digits, '_' and '-')" });

/** The whole file. `default` names the profile used when none is named (see config-file.ts). */
export const configFileSchema = z.strictObject(
  {
    profiles: z.record(profileNameSchema, profileSchema, mapping('profile names to profiles')),
    default: profileNameSchema.optional(),
  },
  { error: 'a mapping with profiles: (and optionally default:)' },
);
