import { describe, expect, it } from 'vitest';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Secret } from 'kubernetes-models/v1/Secret';
// client-node serializes request bodies through this and silently drops fields it does not know:
// a manifest that survives the round trip unchanged has no misspelt field.
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import {
  agentIdEnv,
  compileKubernetesOptions,
  indexedAgentIds,
  renderJob,
  renderSecret,
  type KubernetesLauncherOptions,
} from '../../coordinator/backends/launchers/kubernetes/index.js';

const TOKEN = 's3cret-token-value';
const connect = { url: 'ws://10.0.0.5:7420', token: TOKEN, certFingerprint: 'AB:CD' };

function render(options: KubernetesLauncherOptions = {}, count = 3, slots?: number) {
  const o = compileKubernetesOptions({ clusterName: 'c1', ...options });
  const job = renderJob(o, { name: 'c1-1', namespace: 'science', agentIds: indexedAgentIds('a7', count), slots, nowMs: 1_000_000 });
  const secret = renderSecret(o, { name: 'c1-1', namespace: 'science', connect, owner: { apiVersion: 'batch/v1', kind: 'Job', name: 'c1-1', uid: 'u-1' } });
  return { job, secret };
}

function podSpec(job: ReturnType<typeof render>['job']) {
  const spec = job.spec?.template.spec;
  if (!spec) throw new Error('no pod spec');
  return spec;
}

function envOf(job: ReturnType<typeof render>['job']) {
  return podSpec(job).containers[0]?.env ?? [];
}

describe('kubernetes manifests', () => {
  const variants: [string, KubernetesLauncherOptions][] = [
    ['defaults', {}],
    ['everything set', {
      image: 'registry.example.com/agent:1', imagePullPolicy: 'Always', imagePullSecrets: ['regcred'], command: ['node', '/opt/clustrix/agent.cjs'],
      serviceAccountName: 'agents', cpu: '500m', cpuLimit: null, memory: '2Gi', memoryLimit: '3Gi', gpus: 2, gpuResource: 'amd.com/gpu',
      nodeSelector: { 'cloud.google.com/gke-accelerator': 'nvidia-l4' }, tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      labels: { team: 'physics' }, env: { CLUSTRIX_GRACE_MS: '5000' }, activeDeadlineSeconds: null, ttlSecondsAfterFinished: 0, backoffLimit: 0,
    }],
  ];

  it.each(variants)('Job and Secret validate against the Kubernetes schema (%s)', (_name, options) => {
    const { job, secret } = render(options);
    expect(() => new Job(job as never).validate()).not.toThrow();
    expect(() => new Secret(secret as never).validate()).not.toThrow();
  });

  it.each(variants)('Job and Secret use only fields the API knows (%s)', (_name, options) => {
    const { job, secret } = render(options);
    expect(ObjectSerializer.serialize(job, 'V1Job')).toEqual(job);
    expect(ObjectSerializer.serialize(secret, 'V1Secret')).toEqual(secret);
  });

  it('the schema check catches a broken manifest (the check itself works)', () => {
    const { job } = render();
    const broken = structuredClone(job);
    const container = broken.spec?.template.spec?.containers[0];
    if (container?.resources?.requests) container.resources.requests.cpu = 'two';
    expect(() => new Job(broken as never).validate()).toThrow(/quantity/);
    const misspelt = { ...job, spec: { ...job.spec, ttlSecondAfterFinished: 5 } };
    expect(ObjectSerializer.serialize(misspelt, 'V1Job')).not.toEqual(misspelt);
  });

  it('is an Indexed Job of N pods, created suspended, with deadline and TTL', () => {
    const { job } = render({}, 3);
    expect(job.spec).toMatchObject({
      completionMode: 'Indexed', completions: 3, parallelism: 3, suspend: true, backoffLimit: 3,
      activeDeadlineSeconds: 86_400, ttlSecondsAfterFinished: 600,
    });
    expect(podSpec(job).restartPolicy).toBe('OnFailure');
  });

  it('never puts the token or the address in the Job', () => {
    const { job } = render();
    const text = JSON.stringify(job);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(Buffer.from(TOKEN).toString('base64'));
    expect(text).not.toContain('10.0.0.5');
  });

  it('passes address, token and fingerprint by Secret reference, the rest by the agent env contract', () => {
    const { job } = render({ env: { CLUSTRIX_GRACE_MS: '5000' } }, 2, 4);
    expect(envOf(job)).toEqual([
      { name: 'CLUSTRIX_URL', valueFrom: { secretKeyRef: { name: 'c1-1', key: 'url' } } },
      { name: 'CLUSTRIX_TOKEN', valueFrom: { secretKeyRef: { name: 'c1-1', key: 'token' } } },
      { name: 'CLUSTRIX_CERT_FINGERPRINT', valueFrom: { secretKeyRef: { name: 'c1-1', key: 'certFingerprint', optional: true } } },
      { name: 'CLUSTRIX_AGENT_ID', value: 'a7-{JOB_COMPLETION_INDEX}' },
      { name: 'CLUSTRIX_JOB_ID', value: 'c1-1' },
      { name: 'CLUSTRIX_SLOTS', value: '4' },
      { name: 'CLUSTRIX_WALLTIME_END', value: String(1_000_000 + 86_400_000) },
      { name: 'CLUSTRIX_GRACE_MS', value: '5000' },
    ]);
  });

  it('defaults slots to the whole cores requested, at least one', () => {
    const slots = (options: KubernetesLauncherOptions) => envOf(render(options).job).find((e) => e.name === 'CLUSTRIX_SLOTS')?.value;
    expect([slots({ cpu: 4 }), slots({ cpu: '2500m' }), slots({ cpu: '250m' }), slots({ cpu: '1.5' })]).toEqual(['4', '2', '1', '1']);
  });

  it('holds the connect info in a Secret owned by the Job', () => {
    const { secret } = render({ connectUrl: 'ws://clustrix-coordinator.clustrix.svc:7420' });
    const decoded = Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    expect(decoded).toEqual({ url: 'ws://clustrix-coordinator.clustrix.svc:7420', token: TOKEN, certFingerprint: 'AB:CD' });
    expect(secret.metadata?.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'Job', name: 'c1-1', uid: 'u-1' }]);
    expect(secret.immutable).toBe(true);
  });

  it('asks for resources: requests, limits, GPUs as request == limit', () => {
    const { job } = render({ cpu: 2, memory: '4Gi', gpus: 1 });
    expect(podSpec(job).containers[0]?.resources).toEqual({
      requests: { cpu: '2', memory: '4Gi', 'nvidia.com/gpu': '1' },
      limits: { cpu: '2', memory: '4Gi', 'nvidia.com/gpu': '1' },
    });
    const noLimits = render({ cpuLimit: null, memoryLimit: null }).job;
    expect(podSpec(noLimits).containers[0]?.resources).toEqual({ requests: { cpu: '1', memory: '1Gi' } });
  });

  it('places pods: node selector, tolerations, service account, pull secrets', () => {
    const spec = podSpec(render({
      nodeSelector: { pool: 'gpu' }, tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }],
      serviceAccountName: 'agents', imagePullSecrets: ['regcred'],
    }).job);
    expect(spec).toMatchObject({
      nodeSelector: { pool: 'gpu' }, tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }],
      serviceAccountName: 'agents', imagePullSecrets: [{ name: 'regcred' }],
    });
  });

  it('runs locked down: non-root by uid, no service account token, read-only root with a writable /tmp', () => {
    const spec = podSpec(render().job);
    expect(spec.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec.automountServiceAccountToken).toBe(false);
    expect(spec.containers[0]?.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(spec.containers[0]?.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
  });

  it('labels everything with the cluster and the job', () => {
    const { job, secret } = render({ labels: { team: 'physics' } });
    const labels = {
      team: 'physics', 'app.kubernetes.io/name': 'clustrix-agent', 'app.kubernetes.io/component': 'agent',
      'app.kubernetes.io/managed-by': 'clustrix', 'clustrix.dev/cluster': 'c1', 'clustrix.dev/job': 'c1-1',
    };
    expect(job.metadata?.labels).toEqual(labels);
    expect(job.spec?.template.metadata?.labels).toEqual(labels);
    expect(secret.metadata?.labels).toEqual(labels);
  });

  it('agent ids <p>-0 … <p>-<n-1>: one variable, filled in from JOB_COMPLETION_INDEX', () => {
    expect(indexedAgentIds('k8s-3', 3)).toEqual(['k8s-3-0', 'k8s-3-1', 'k8s-3-2']);
    expect(agentIdEnv(['k8s-3-0', 'k8s-3-1'])).toEqual([{ name: 'CLUSTRIX_AGENT_ID', value: 'k8s-3-{JOB_COMPLETION_INDEX}' }]);
  });

  it('any other agent ids (the pool numbers agents across launches): kubelet expansion, then the agent\'s', () => {
    expect(agentIdEnv(['c-4', 'c-7', 'odd$(id)'])).toEqual([
      { name: 'CLUSTRIX_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
      { name: 'CLUSTRIX_ID_0', value: 'c-4' },
      { name: 'CLUSTRIX_ID_1', value: 'c-7' },
      { name: 'CLUSTRIX_ID_2', value: 'odd$$(id)' },
      { name: 'CLUSTRIX_AGENT_ID', value: '{CLUSTRIX_ID_$(CLUSTRIX_INDEX)}' },
    ]);
    const o = compileKubernetesOptions({ clusterName: 'c1' });
    const job = renderJob(o, { name: 'c1-2', namespace: 'science', agentIds: ['c-4', 'c-7'], nowMs: 0 });
    expect(() => new Job(job as never).validate()).not.toThrow();
    expect(ObjectSerializer.serialize(job, 'V1Job')).toEqual(job);
    expect(job.spec).toMatchObject({ completions: 2, parallelism: 2 });
  });

  it('rejects agent ids that cannot name agents', () => {
    const message = (ids: string[]) => `launch request 'agentIds' must be distinct non-empty strings, got ${JSON.stringify(ids)}`;
    expect(() => agentIdEnv(['a', 'a'])).toThrow(new TypeError(message(['a', 'a'])));
    expect(() => agentIdEnv(['a', ''])).toThrow(new TypeError(message(['a', ''])));
    expect(() => agentIdEnv([])).toThrow(TypeError);
  });
});
