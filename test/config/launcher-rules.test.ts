// "The schema wins": each value a launcher would refuse at construction (with its own TypeError) is
// refused first by the options schema, as a ConfigError, when it comes through Cluster.start().
import { describe, expect, it } from 'vitest';
import { resolveClusterOptions, type ClusterOptions } from '../../coordinator/config/index.js';
import { compileKubernetesOptions, type KubernetesLauncherOptions } from '../../coordinator/backends/launchers/kubernetes/index.js';
import { compileResources, type ResourceOptions } from '../../coordinator/backends/launchers/batch/index.js';
import { thrown } from './helpers.js';

describe('kubernetes options', () => {
  it.each<KubernetesLauncherOptions>([
    { namespce: 'x' } as never,
    { namespace: 'Science' },
    { inCluster: 'yes' } as never,
    { inCluster: true, context: 'prod' },
    { inCluster: true, kubeconfig: '/k' },
    { kubeconfig: '' },
    { image: 'ghcr.io/x y' },
    { imagePullPolicy: 'always' } as never,
    { imagePullSecrets: 'regcred' } as never,
    { imagePullSecrets: ['Bad_Name'] },
    { command: [] },
    { serviceAccountName: 'Bad_SA' },
    { cpu: '2 cores' },
    { cpu: 0 },
    { cpu: '0' },
    { memory: '4GB' },
    { memoryLimit: -1 } as never,
    { gpus: 1.5 },
    { gpuResource: 'nvidia.com/' },
    { nodeSelector: ['gpu'] } as never,
    { nodeSelector: { pool: 'a b' } },
    { labels: { 'bad key!': 'x' } },
    { labels: { 'clustrix.dev/cluster': 'x' } },
    { tolerations: [{ key: 'gpu', operator: 'Exists', value: 'x' }] },
    { tolerations: [{ key: 'gpu', effect: 'NoSchedule', tolerationSeconds: 5 }] },
    { env: { CLUSTRIX_TOKEN: 'x' } },
    { env: { GRACE: 5 } } as never,
    { env: { '1BAD': 'x' } },
    { activeDeadlineSeconds: 0 },
    { ttlSecondsAfterFinished: -1 },
    { backoffLimit: '3' } as never,
    { stuckTimeoutMs: Number.NaN },
  ])('%j', (kubernetes) => {
    expect(thrown(() => compileKubernetesOptions(kubernetes))).toBeInstanceOf(TypeError);
    const err = thrown(() => resolveClusterOptions({ backend: 'kubernetes', kubernetes } as ClusterOptions));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(/^options\.kubernetes/);
  });
});

describe('resources', () => {
  it.each<[ResourceOptions, 'slurm' | 'pbs' | 'sge']>([
    [{ cpusPerTask: 0 }, 'slurm'],
    [{ nodes: 2 }, 'pbs'],
    [{ nodes: 2 }, 'sge'],
    [{ qos: 'high' }, 'pbs'],
    [{ partition: 'a', queue: 'b' }, 'slurm'],
    [{ account: 'a\nb' }, 'slurm'],
    [{ extraDirectives: ['--x\n--y'] }, 'slurm'],
    [{ memory: 'lots' }, 'slurm'],
    [{ time: '25:99:00' }, 'slurm'],
  ])('%j with %s', (resources, backend) => {
    expect(thrown(() => compileResources(resources, backend))).toBeInstanceOf(TypeError);
    const err = thrown(() => resolveClusterOptions({ backend, resources }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(/^options\.resources/);
  });
});
