/**
 * `kubernetes`: the agent pods. The launcher checks these again when built directly; through
 * Cluster.start() this schema decides first, with the launcher's own predicates (DNS names, label
 * syntax, quantities, reserved names), so no value it would refuse gets that far.
 */
import { z } from 'zod';
import {
  CLUSTER_LABEL,
  dnsLabel,
  dnsSubdomain,
  ENV_NAME,
  JOB_LABEL,
  labelKey,
  labelValue,
  QUANTITY,
  RESERVED_ENV,
  type KubernetesLauncherOptions,
} from '../backends/launchers/kubernetes/options.js';
import { as, flag, int, mapping, ms, nonEmpty, nonNegativeInt, type Differences, type None } from './schema-kit.js';

/** What `kubernetes` sets; `connectUrl` and `clusterName` are the backend's, per run. */
export type KubernetesOptions = Omit<KubernetesLauncherOptions, 'connectUrl' | 'clusterName'>;

const sentence = { sentence: true };

const quantityString = (what: string) =>
  z.string({ error: what }).refine((v) => QUANTITY.test(v) && Number.parseFloat(v) > 0, { error: what });
const CPU = "a positive number of cores or a Kubernetes quantity such as '500m'";
const cpu = (what: string) => z.union([z.number({ error: what }).positive({ error: what }), quantityString(what)], { error: what });
const MEMORY = "a Kubernetes quantity such as '4Gi'";

const LABEL_KEY = "a label name ('[prefix/]name': letters, digits, '-', '_', '.')";
const LABEL_VALUE = "a label value (at most 63 letters, digits, '-', '_' or '.')";
const labelMap = (what: string) =>
  z.record(z.string().refine(labelKey, { error: LABEL_KEY }), z.string({ error: 'a string' }).refine(labelValue, { error: LABEL_VALUE }), mapping(what)).readonly();

const tolerationSchema = z
  .strictObject(
    {
      key: z.string({ error: LABEL_KEY }).refine(labelKey, { error: LABEL_KEY }).optional(),
      operator: z.enum(['Exists', 'Equal']).optional(),
      value: z.string({ error: 'a string' }).optional(),
      effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']).optional(),
      tolerationSeconds: nonNegativeInt().optional(),
    },
    mapping('toleration fields (key, operator, value, effect, tolerationSeconds)'),
  )
  .superRefine((t, ctx) => {
    if (t.value !== undefined && t.operator === 'Exists') {
      ctx.addIssue({ code: 'custom', path: ['value'], input: t.value, params: sentence, message: "not with operator 'Exists' (it matches any value)" });
    }
    if (t.tolerationSeconds !== undefined && t.effect !== 'NoExecute') {
      ctx.addIssue({ code: 'custom', path: ['tolerationSeconds'], input: t.tolerationSeconds, params: sentence, message: "only with effect 'NoExecute' (how long a pod stays on a tainted node)" });
    }
  });

const kubernetesObject = z
  .strictObject(
    {
      kubeconfig: nonEmpty('a non-empty path').optional(),
      context: nonEmpty().optional(),
      inCluster: flag().optional(),
      namespace: z.string({ error: 'a DNS label' }).refine(dnsLabel, { error: 'a DNS label (lower-case letters, digits and -, at most 63 characters)' }).optional(),
      image: z.string({ error: 'an image reference' }).regex(/^\S+$/, { error: 'an image reference without spaces' }).optional(),
      imagePullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).optional(),
      imagePullSecrets: z.array(z.string({ error: 'a Secret name' }).refine(dnsSubdomain, { error: 'a Secret name (a DNS subdomain)' }), { error: 'a list of Secret names' }).readonly().optional(),
      command: z.array(z.string({ error: 'a string' }), { error: 'a non-empty list of strings' }).min(1, { error: 'a non-empty list of strings' }).readonly().optional(),
      serviceAccountName: z.string({ error: 'a service account name' }).refine(dnsSubdomain, { error: 'a service account name (a DNS subdomain)' }).optional(),
      cpu: cpu(CPU).optional(),
      cpuLimit: cpu(`${CPU}, or null for none`).nullable().optional(),
      memory: quantityString(MEMORY).optional(),
      memoryLimit: quantityString(`${MEMORY}, or null for none`).nullable().optional(),
      gpus: nonNegativeInt().optional(),
      gpuResource: z.string({ error: 'an extended resource name such as nvidia.com/gpu' }).refine(labelKey, { error: 'an extended resource name such as nvidia.com/gpu' }).optional(),
      nodeSelector: labelMap('node labels (name: value)').optional(),
      tolerations: z.array(tolerationSchema, { error: 'a list of tolerations' }).readonly().optional(),
      labels: labelMap('labels (name: value)').optional(),
      env: z
        .record(z.string().regex(ENV_NAME, { error: 'an environment variable name' }), z.string({ error: 'a string' }), mapping('environment variables (NAME: value)'))
        .readonly()
        .optional(),
      activeDeadlineSeconds: int(1, 'a positive integer number of seconds, or null for none').nullable().optional(),
      ttlSecondsAfterFinished: int(0, 'a non-negative integer number of seconds, or null to keep Jobs').nullable().optional(),
      backoffLimit: nonNegativeInt().optional(),
      stuckTimeoutMs: ms(0).optional(),
    },
    mapping('kubernetes options (image, namespace, cpu, memory, ...)'),
  )
  .superRefine((k, ctx) => {
    for (const key of ['kubeconfig', 'context'] as const) {
      if (k.inCluster === true && k[key] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [key], input: k[key], params: sentence, message: 'not with inCluster: in a pod the service account is the only credential' });
      }
    }
    for (const key of [CLUSTER_LABEL, JOB_LABEL]) {
      if (k.labels && key in k.labels) ctx.addIssue({ code: 'custom', path: ['labels', key], input: k.labels[key], params: sentence, message: 'the launcher sets this label (it finds its pods by it)' });
    }
    for (const key of RESERVED_ENV) {
      if (k.env && key in k.env) ctx.addIssue({ code: 'custom', path: ['env', key], input: k.env[key], params: sentence, message: 'the launcher sets this variable (the address and token travel in a Secret)' });
    }
  });
type _KubernetesMirrored = None<Differences<KubernetesOptions, z.input<typeof kubernetesObject>>>;

export const kubernetesSchema = as<KubernetesOptions>(kubernetesObject);
