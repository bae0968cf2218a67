import { MAX_TIMER_MS } from '../../../../protocol/durations.js';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { customAlphabet } from 'nanoid';

/** A toleration, as in a pod spec (core/v1 Toleration). */
export interface KubernetesToleration {
  key?: string | undefined;
  operator?: 'Exists' | 'Equal' | undefined;
  value?: string | undefined;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' | undefined;
  tolerationSeconds?: number | undefined;
}

/**
 * What the kubernetes launcher needs to know. Every field is optional; the default is written next
 * to each. Values are checked once, in the constructor, and an invalid one throws a TypeError
 * naming the option.
 */
export interface KubernetesLauncherOptions {
  /** Path to a kubeconfig file. @default `$KUBECONFIG`, else `~/.kube/config`, else the pod's service account */
  kubeconfig?: string | undefined;
  /** Context to use from the kubeconfig. @default the kubeconfig's current-context */
  context?: string | undefined;
  /** Use the service account of the pod the coordinator runs in, ignoring any kubeconfig. @default false */
  inCluster?: boolean | undefined;
  /** Namespace of the Jobs, pods and Secrets. @default the context's namespace (in a pod: its own), else 'default' */
  namespace?: string | undefined;
  /** Agent image, built from Dockerfile.agent. @default `ghcr.io/clustrix/agent:<clustrix version>` */
  image?: string | undefined;
  /** @default 'IfNotPresent' */
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never' | undefined;
  /** Names of Secrets (type kubernetes.io/dockerconfigjson) for a private registry. @default [] */
  imagePullSecrets?: readonly string[] | undefined;
  /** Container command, replacing the image's entrypoint (e.g. a custom image). @default the image's entrypoint */
  command?: readonly string[] | undefined;
  /** Service account the agent pods run as. @default the namespace's default service account */
  serviceAccountName?: string | undefined;
  /** CPU request per agent pod (Kubernetes quantity, e.g. 2 or '500m'). @default '1' */
  cpu?: string | number | undefined;
  /** CPU limit; null for none. @default the CPU request (Guaranteed QoS: no noisy neighbours) */
  cpuLimit?: string | number | null | undefined;
  /** Memory request per agent pod (e.g. '4Gi'). @default '1Gi' */
  memory?: string | undefined;
  /** Memory limit; null for none. @default the memory request */
  memoryLimit?: string | null | undefined;
  /** GPUs per agent pod. @default 0 */
  gpus?: number | undefined;
  /** Extended resource name of a GPU. @default 'nvidia.com/gpu' */
  gpuResource?: string | undefined;
  /** Node labels a node must have to run agents. @default {} */
  nodeSelector?: Readonly<Record<string, string>> | undefined;
  /** Taints the agent pods tolerate (e.g. of a GPU node pool). @default [] */
  tolerations?: readonly KubernetesToleration[] | undefined;
  /** Extra labels on the Jobs, pods and Secrets. @default {} */
  labels?: Readonly<Record<string, string>> | undefined;
  /** Extra plain environment variables for agents (e.g. CLUSTRIX_GRACE_MS). Never a secret. @default {} */
  env?: Readonly<Record<string, string>> | undefined;
  /** Names this cluster's objects (label `clustrix.dev/cluster`, Job name prefix). @default `clustrix-<6 random chars>` */
  clusterName?: string | undefined;
  /**
   * The ws:// or wss:// address pods dial, when it differs from the coordinator's own (an advertised
   * node IP, or an in-cluster Service such as ws://clustrix.ns.svc:7420). @default the launch request's url
   */
  connectUrl?: string | undefined;
  /** Kubernetes ends a Job (and its pods) after this long; null for never. @default 86400 (a day) */
  activeDeadlineSeconds?: number | null | undefined;
  /** A finished Job (and its pods and Secret) is deleted this long after; null to keep it. @default 600 */
  ttlSecondsAfterFinished?: number | null | undefined;
  /** Container restarts (over all pods of a Job) before the Job is failed. @default 3 */
  backoffLimit?: number | undefined;
  /**
   * How long a pod may stay unschedulable or unable to pull its image before status() reports the
   * Job failed (CrashLoopBackOff fails at once). Raise it when a cluster autoscaler adds nodes.
   * @default 60000
   */
  stuckTimeoutMs?: number | undefined;
}

/** The options after defaults: every field present. `namespace` null: the kubeconfig's. */
export interface CompiledKubernetesOptions {
  kubeconfig: string | null;
  context: string | null;
  inCluster: boolean;
  namespace: string | null;
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  imagePullSecrets: readonly string[];
  command: readonly string[] | null;
  serviceAccountName: string | null;
  cpu: string;
  cpuLimit: string | null;
  memory: string;
  memoryLimit: string | null;
  gpus: number;
  gpuResource: string;
  nodeSelector: Readonly<Record<string, string>>;
  tolerations: readonly KubernetesToleration[];
  labels: Readonly<Record<string, string>>;
  env: Readonly<Record<string, string>>;
  clusterName: string;
  connectUrl: string | null;
  activeDeadlineSeconds: number | null;
  ttlSecondsAfterFinished: number | null;
  backoffLimit: number;
  stuckTimeoutMs: number;
}

/** Label keys the launcher owns; user labels may not replace them (status() finds pods by them). */
export const CLUSTER_LABEL = 'clustrix.dev/cluster';
export const JOB_LABEL = 'clustrix.dev/job';

/** Variables the launcher sets itself; the token and address travel only in the Secret. */
export const RESERVED_ENV = [
  'CLUSTRIX_URL', 'CLUSTRIX_TOKEN', 'CLUSTRIX_TOKEN_FILE', 'CLUSTRIX_CERT_FINGERPRINT', 'CLUSTRIX_AGENT_ID',
  'CLUSTRIX_JOB_ID', 'CLUSTRIX_SLOTS', 'CLUSTRIX_WALLTIME_END',
];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
export const QUANTITY = /^(\d+(\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
export const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const KNOWN = new Set<string>([
  'kubeconfig', 'context', 'inCluster', 'namespace', 'image', 'imagePullPolicy', 'imagePullSecrets', 'command',
  'serviceAccountName', 'cpu', 'cpuLimit', 'memory', 'memoryLimit', 'gpus', 'gpuResource', 'nodeSelector',
  'tolerations', 'labels', 'env', 'clusterName', 'connectUrl', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished',
  'backoffLimit', 'stuckTimeoutMs',
]);

/** Job names are `<clusterName>-<n>`; pod hostnames add `-<index>`, and both must stay DNS labels. */
const MAX_CLUSTER_NAME = 40;

const randomSuffix = customAlphabet('abcdefghijklmnopqrstuvwxyz0123456789', 6);

export function compileKubernetesOptions(options: KubernetesLauncherOptions = {}): CompiledKubernetesOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError(`kubernetes launcher options must be an object, got ${show(options)}`);
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new TypeError(`unknown kubernetes launcher option '${key}'`);
  }
  const o = options;
  const inCluster = optional(o.inCluster, 'inCluster', false, (v) => typeof v === 'boolean', 'a boolean');
  const kubeconfig = optional(o.kubeconfig, 'kubeconfig', null, nonEmptyString, 'a non-empty path');
  const context = optional(o.context, 'context', null, nonEmptyString, 'a non-empty context name');
  if (inCluster && (kubeconfig !== null || context !== null)) {
    throw new TypeError(`kubernetes launcher option 'inCluster' excludes '${kubeconfig !== null ? 'kubeconfig' : 'context'}': in a pod the service account is the only credential`);
  }
  const cpu = quantity(o.cpu, 'cpu', '1');
  const memory = quantity(o.memory, 'memory', '1Gi');
  return {
    kubeconfig,
    context,
    inCluster,
    namespace: optional(o.namespace, 'namespace', null, dnsLabel, 'a DNS label (lower-case letters, digits and -, at most 63 characters)'),
    image: optional(o.image, 'image', `ghcr.io/clustrix/agent:${packageVersion()}`, (v) => nonEmptyString(v) && !/\s/.test(v), 'an image reference without spaces'),
    imagePullPolicy: optional(o.imagePullPolicy, 'imagePullPolicy', 'IfNotPresent', (v) => v === 'Always' || v === 'IfNotPresent' || v === 'Never', "'Always', 'IfNotPresent' or 'Never'"),
    imagePullSecrets: optional(o.imagePullSecrets, 'imagePullSecrets', [], (v) => Array.isArray(v) && v.every(dnsSubdomain), 'an array of Secret names'),
    command: optional(o.command, 'command', null, (v) => Array.isArray(v) && v.length > 0 && v.every((s) => typeof s === 'string'), 'a non-empty array of strings'),
    serviceAccountName: optional(o.serviceAccountName, 'serviceAccountName', null, dnsSubdomain, 'a service account name'),
    cpu,
    cpuLimit: o.cpuLimit === null ? null : quantity(o.cpuLimit, 'cpuLimit', cpu),
    memory,
    memoryLimit: o.memoryLimit === null ? null : quantity(o.memoryLimit, 'memoryLimit', memory),
    gpus: optional(o.gpus, 'gpus', 0, nonNegativeInt, 'a non-negative integer'),
    gpuResource: optional(o.gpuResource, 'gpuResource', 'nvidia.com/gpu', labelKey, 'an extended resource name such as nvidia.com/gpu'),
    nodeSelector: stringMap(o.nodeSelector, 'nodeSelector', labelKey, labelValue, 'node labels'),
    tolerations: optional(o.tolerations, 'tolerations', [], (v) => Array.isArray(v) && v.every(toleration), 'an array of { key, operator, value, effect, tolerationSeconds }'),
    labels: ownLabelsFree(stringMap(o.labels, 'labels', labelKey, labelValue, 'Kubernetes labels')),
    env: reservedFree(stringMap(o.env, 'env', (k) => ENV_NAME.test(k), () => true, 'environment variables')),
    clusterName: optional(o.clusterName, 'clusterName', `clustrix-${randomSuffix()}`, (v) => dnsLabel(v) && (v as string).length <= MAX_CLUSTER_NAME, `a DNS label of at most ${MAX_CLUSTER_NAME} characters`),
    connectUrl: optional(o.connectUrl, 'connectUrl', null, (v) => typeof v === 'string' && /^wss?:\/\/[^\s/]+/.test(v), 'a ws:// or wss:// address'),
    activeDeadlineSeconds: nullable(o.activeDeadlineSeconds, 'activeDeadlineSeconds', 86_400, positiveInt),
    ttlSecondsAfterFinished: nullable(o.ttlSecondsAfterFinished, 'ttlSecondsAfterFinished', 600, nonNegativeInt),
    backoffLimit: optional(o.backoffLimit, 'backoffLimit', 3, nonNegativeInt, 'a non-negative integer'),
    stuckTimeoutMs: optional(o.stuckTimeoutMs, 'stuckTimeoutMs', 60_000, (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= MAX_TIMER_MS, `a number of milliseconds from 0 to ${MAX_TIMER_MS}`),
  };
}

/** Whole cores in a CPU quantity, at least 1: the agent's worker slots when the pool sets none. */
export function coresOf(cpu: string): number {
  const millis = cpu.endsWith('m') ? Number(cpu.slice(0, -1)) : Number(cpu) * 1000;
  return Math.max(1, Math.floor(millis / 1000));
}

function optional<T>(value: unknown, name: string, fallback: T, ok: (v: unknown) => boolean, what: string): T {
  if (value === undefined) return fallback;
  if (!ok(value)) throw new TypeError(`kubernetes launcher option '${name}' must be ${what}, got ${show(value)}`);
  return value as T;
}

function nullable(value: unknown, name: string, fallback: number, ok: (v: unknown) => boolean): number | null {
  if (value === null) return null;
  return optional(value, name, fallback, ok, `${ok === positiveInt ? 'a positive' : 'a non-negative'} integer number of seconds, or null`);
}

function quantity(value: unknown, name: string, fallback: string): string {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return String(value);
  return optional(value, name, fallback, (v) => typeof v === 'string' && QUANTITY.test(v) && Number.parseFloat(v) > 0, "a positive Kubernetes quantity such as 2, '500m' or '4Gi'");
}

function stringMap(value: unknown, name: string, keyOk: (k: string) => boolean, valueOk: (v: string) => boolean, what: string): Record<string, string> {
  if (value === undefined) return {};
  const isRecord = typeof value === 'object' && value !== null && !Array.isArray(value);
  if (!isRecord) throw new TypeError(`kubernetes launcher option '${name}' must be an object of ${what}, got ${show(value)}`);
  for (const [k, v] of Object.entries(value)) {
    if (!keyOk(k)) throw new TypeError(`kubernetes launcher option '${name}' has an invalid key ${show(k)}`);
    if (typeof v !== 'string' || !valueOk(v)) throw new TypeError(`kubernetes launcher option '${name}' has an invalid value for ${show(k)}: ${show(v)}`);
  }
  return { ...(value as Record<string, string>) };
}

function ownLabelsFree(labels: Record<string, string>): Record<string, string> {
  for (const key of [CLUSTER_LABEL, JOB_LABEL]) {
    if (key in labels) throw new TypeError(`kubernetes launcher option 'labels' must not set ${key}: the launcher finds its pods by it (use 'clusterName')`);
  }
  return labels;
}

function reservedFree(env: Record<string, string>): Record<string, string> {
  for (const key of RESERVED_ENV) {
    if (key in env) throw new TypeError(`kubernetes launcher option 'env' must not set ${key}: the launcher sets it (the address and token travel in a Secret)`);
  }
  return env;
}

function toleration(t: unknown): boolean {
  if (typeof t !== 'object' || t === null || Array.isArray(t)) return false;
  const { key, operator, value, effect, tolerationSeconds, ...rest } = t as KubernetesToleration;
  return Object.keys(rest).length === 0 &&
    (key === undefined || labelKey(key)) &&
    (operator === undefined || operator === 'Exists' || operator === 'Equal') &&
    (value === undefined || (typeof value === 'string' && operator !== 'Exists')) &&
    (effect === undefined || effect === 'NoSchedule' || effect === 'PreferNoSchedule' || effect === 'NoExecute') &&
    (tolerationSeconds === undefined || (nonNegativeInt(tolerationSeconds) && effect === 'NoExecute'));
}

function nonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}
function positiveInt(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}
function nonNegativeInt(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}
// Exported, with the patterns above, for the options schema (config/kubernetes-schema.ts), which
// checks Cluster.start()'s `kubernetes` options with them before this launcher is built.
export function dnsLabel(v: unknown): boolean {
  return typeof v === 'string' && v.length <= 63 && DNS_LABEL.test(v);
}
export function dnsSubdomain(v: unknown): boolean {
  return typeof v === 'string' && v.length <= 253 && DNS_SUBDOMAIN.test(v);
}
/** `[prefix/]name` as Kubernetes checks label keys (and extended resource names). */
export function labelKey(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  const slash = v.indexOf('/');
  const name = slash < 0 ? v : v.slice(slash + 1);
  return (slash < 0 || dnsSubdomain(v.slice(0, slash))) && name.length <= 63 && LABEL_NAME.test(name);
}
export function labelValue(v: string): boolean {
  return v === '' || (v.length <= 63 && LABEL_NAME.test(v));
}

function show(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

let version: string | undefined;
/**
 * The image tag defaults to the package version, so a coordinator and its agents speak the same
 * protocol. Walks up from this file because it sits at different depths in the source tree and dist/.
 */
export function packageVersion(): string {
  if (version !== undefined) return version;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'clustrix' && typeof pkg.version === 'string') return (version = pkg.version);
    } catch {
      // no package.json here: keep walking up
    }
    const parent = dirname(dir);
    // Bundled into someone else's program: no package.json of ours to find.
    if (parent === dir) return (version = 'latest');
    dir = parent;
  }
}
