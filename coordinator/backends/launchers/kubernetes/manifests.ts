import type { V1EnvVar, V1Job, V1OwnerReference, V1Secret } from '@kubernetes/client-node';
import type { AgentConnectInfo } from '../launcher.js';
import { CLUSTER_LABEL, JOB_LABEL, coresOf, type CompiledKubernetesOptions } from './options.js';

/** Container name in every agent pod; logs() and the stand-in API server read it. */
export const CONTAINER_NAME = 'agent';

/**
 * The uid the image's USER has (Dockerfile.agent). Set numerically in the pod too: with
 * runAsNonRoot the kubelet refuses an image whose user it cannot prove to be non-root.
 */
export const AGENT_UID = 1000;

/** Keys of the per-Job Secret; each becomes one environment variable of the agent. */
export const SECRET_KEYS = { url: 'url', token: 'token', certFingerprint: 'certFingerprint' } as const;

export interface JobManifestInput {
  /** Job name; the Secret has the same name. */
  name: string;
  namespace: string;
  /** The id each pod reports, by completion index. */
  agentIds: readonly string[];
  /** Worker-thread slots per agent; undefined: whole cores of the CPU request. */
  slots?: number | undefined;
  /** For CLUSTRIX_WALLTIME_END; the deadline counts from a little later, so agents stop a little early. */
  nowMs: number;
}

/** Labels on everything one Job owns: the cluster's label finds them all, the job label one Job's pods. */
export function objectLabels(options: CompiledKubernetesOptions, jobName: string): Record<string, string> {
  return {
    ...options.labels,
    'app.kubernetes.io/name': 'clustrix-agent',
    'app.kubernetes.io/component': 'agent',
    'app.kubernetes.io/managed-by': 'clustrix',
    [CLUSTER_LABEL]: options.clusterName,
    [JOB_LABEL]: jobName,
  };
}

/**
 * The connect address and token, so the pod spec only references them by name: anyone allowed to
 * read Jobs or pods (a wider group than those who may read Secrets) does not see the token.
 */
export function renderSecret(
  options: CompiledKubernetesOptions,
  input: { name: string; namespace: string; connect: AgentConnectInfo; owner: V1OwnerReference },
): V1Secret {
  const data: Record<string, string> = {
    [SECRET_KEYS.url]: base64(options.connectUrl ?? input.connect.url),
    [SECRET_KEYS.token]: base64(input.connect.token),
  };
  if (input.connect.certFingerprint) data[SECRET_KEYS.certFingerprint] = base64(input.connect.certFingerprint);
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: input.name,
      namespace: input.namespace,
      labels: objectLabels(options, input.name),
      // Garbage collection deletes the Secret with its Job, also when the Job's TTL runs out after
      // the coordinator is gone. No blockOwnerDeletion: setting it needs more RBAC than rbac.yaml grants.
      ownerReferences: [input.owner],
    },
    type: 'Opaque',
    // The kubelet stops watching an immutable Secret for changes: less API server load per pod.
    immutable: true,
    data,
  };
}

/**
 * An Indexed Job of `count` agent pods. Created suspended: no pod starts before its Secret exists
 * (the Secret names the Job as its owner, so the Job must exist first); launch() then resumes it.
 */
export function renderJob(options: CompiledKubernetesOptions, input: JobManifestInput): V1Job {
  const labels = objectLabels(options, input.name);
  const requests: Record<string, string> = { cpu: options.cpu, memory: options.memory };
  const limits: Record<string, string> = {};
  if (options.cpuLimit !== null) limits.cpu = options.cpuLimit;
  if (options.memoryLimit !== null) limits.memory = options.memoryLimit;
  if (options.gpus > 0) {
    // Extended resources cannot be overcommitted: Kubernetes requires request == limit.
    requests[options.gpuResource] = String(options.gpus);
    limits[options.gpuResource] = String(options.gpus);
  }
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: input.name, namespace: input.namespace, labels },
    spec: {
      completionMode: 'Indexed',
      completions: input.agentIds.length,
      parallelism: input.agentIds.length,
      suspend: true,
      backoffLimit: options.backoffLimit,
      ...(options.activeDeadlineSeconds !== null && { activeDeadlineSeconds: options.activeDeadlineSeconds }),
      ...(options.ttlSecondsAfterFinished !== null && { ttlSecondsAfterFinished: options.ttlSecondsAfterFinished }),
      template: {
        metadata: { labels },
        spec: {
          // OnFailure restarts a crashed agent in place, which is what makes CrashLoopBackOff
          // visible to status(); an agent that exits 0 (coordinator gone) completes its index.
          restartPolicy: 'OnFailure',
          // Agents never call the Kubernetes API: no token in their pods, no service links in their env.
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          ...(options.serviceAccountName !== null && { serviceAccountName: options.serviceAccountName }),
          ...(options.imagePullSecrets.length > 0 && { imagePullSecrets: options.imagePullSecrets.map((name) => ({ name })) }),
          ...(Object.keys(options.nodeSelector).length > 0 && { nodeSelector: { ...options.nodeSelector } }),
          ...(options.tolerations.length > 0 && { tolerations: options.tolerations.map((t) => ({ ...t })) }),
          // Meets the "restricted" Pod Security Standard, so a locked-down namespace admits the pods.
          securityContext: {
            runAsNonRoot: true,
            runAsUser: AGENT_UID,
            runAsGroup: AGENT_UID,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: CONTAINER_NAME,
              image: options.image,
              imagePullPolicy: options.imagePullPolicy,
              ...(options.command !== null && { command: [...options.command] }),
              env: agentEnv(options, input),
              resources: { requests, ...(Object.keys(limits).length > 0 && { limits }) },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              // The root filesystem is read-only; shipped code is cached under the temp dir.
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: {} }],
        },
      },
    },
  };
}

/** The agent's environment contract (agent/config.ts). Secret values come by reference only. */
function agentEnv(options: CompiledKubernetesOptions, input: JobManifestInput): V1EnvVar[] {
  const fromSecret = (name: string, key: string, optional?: boolean): V1EnvVar => ({
    name,
    valueFrom: { secretKeyRef: { name: input.name, key, ...(optional && { optional }) } },
  });
  const env: V1EnvVar[] = [
    fromSecret('CLUSTRIX_URL', SECRET_KEYS.url),
    // An env var, not a mounted file: a Secret volume's files are owned by root (or group-readable
    // under fsGroup), which the agent's 0600 check on CLUSTRIX_TOKEN_FILE rightly refuses.
    fromSecret('CLUSTRIX_TOKEN', SECRET_KEYS.token),
    fromSecret('CLUSTRIX_CERT_FINGERPRINT', SECRET_KEYS.certFingerprint, true),
    ...agentIdEnv(input.agentIds),
    { name: 'CLUSTRIX_JOB_ID', value: input.name },
    // os.availableParallelism() in a container counts the node's cores, not the pod's share.
    { name: 'CLUSTRIX_SLOTS', value: String(input.slots ?? coresOf(options.cpu)) },
  ];
  if (options.activeDeadlineSeconds !== null) {
    env.push({ name: 'CLUSTRIX_WALLTIME_END', value: String(input.nowMs + options.activeDeadlineSeconds * 1000) });
  }
  for (const [name, value] of Object.entries(options.env)) env.push({ name, value });
  return env;
}

/** The completion index, from the annotation the Job controller puts on each pod of an Indexed Job. */
const INDEX_FIELD = "metadata.annotations['batch.kubernetes.io/job-completion-index']";

/**
 * How pod i learns its agent id. Ids `<p>-0 … <p>-<n-1>` need one variable: the Job controller
 * sets JOB_COMPLETION_INDEX and the agent substitutes `{NAME}`. Any other ids (the pool numbers
 * agents across launches: `c-4`, `c-5`) go through two substitutions in a row: the kubelet expands
 * `$(CLUSTRIX_INDEX)`, defined above it, to `{CLUSTRIX_ID_<i>}`, which the agent then looks up.
 */
export function agentIdEnv(agentIds: readonly string[]): V1EnvVar[] {
  if (agentIds.length === 0 || agentIds.some((id) => typeof id !== 'string' || id === '') || new Set(agentIds).size !== agentIds.length) {
    throw new TypeError(`launch request 'agentIds' must be distinct non-empty strings, got ${JSON.stringify(agentIds.slice(0, 5))}`);
  }
  const prefix = /^([A-Za-z0-9._-]+)-0$/.exec(agentIds[0] ?? '')?.[1];
  if (prefix !== undefined && agentIds.every((id, i) => id === `${prefix}-${i}`)) {
    return [{ name: 'CLUSTRIX_AGENT_ID', value: `${prefix}-{JOB_COMPLETION_INDEX}` }];
  }
  return [
    { name: 'CLUSTRIX_INDEX', valueFrom: { fieldRef: { fieldPath: INDEX_FIELD } } },
    // `$$` is the kubelet's escape for a literal `$` in a value it expands.
    ...agentIds.map((id, i) => ({ name: `CLUSTRIX_ID_${i}`, value: id.replaceAll('$', '$$$$') })),
    { name: 'CLUSTRIX_AGENT_ID', value: '{CLUSTRIX_ID_$(CLUSTRIX_INDEX)}' },
  ];
}

/** Agent ids `<prefix>-0 … <prefix>-<count-1>`: the shape that needs the fewest variables per pod. */
export function indexedAgentIds(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
}

function base64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}
