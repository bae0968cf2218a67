import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileKubernetesOptions, packageVersion, type KubernetesLauncherOptions } from '../../coordinator/backends/launchers/kubernetes/index.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('kubernetes launcher options', () => {
  it('fills every default', () => {
    const o = compileKubernetesOptions({ clusterName: 'c1' });
    expect(o).toEqual({
      kubeconfig: null,
      context: null,
      inCluster: false,
      namespace: null,
      image: `ghcr.io/clustrix/agent:${version}`,
      imagePullPolicy: 'IfNotPresent',
      imagePullSecrets: [],
      command: null,
      serviceAccountName: null,
      cpu: '1',
      cpuLimit: '1',
      memory: '1Gi',
      memoryLimit: '1Gi',
      gpus: 0,
      gpuResource: 'nvidia.com/gpu',
      nodeSelector: {},
      tolerations: [],
      labels: {},
      env: {},
      clusterName: 'c1',
      connectUrl: null,
      activeDeadlineSeconds: 86_400,
      ttlSecondsAfterFinished: 600,
      backoffLimit: 3,
      stuckTimeoutMs: 60_000,
    });
  });

  it('reads the image tag from the package version', () => {
    expect(packageVersion()).toBe(version);
  });

  it('gives each cluster a random DNS-safe name', () => {
    const a = compileKubernetesOptions().clusterName;
    const b = compileKubernetesOptions().clusterName;
    expect(a).toMatch(/^clustrix-[a-z0-9]{6}$/);
    expect(a).not.toBe(b);
  });

  it('limits follow requests unless set; null drops a limit', () => {
    const o = compileKubernetesOptions({ cpu: 2, memory: '4Gi', cpuLimit: null, memoryLimit: '6Gi' });
    expect([o.cpu, o.cpuLimit, o.memory, o.memoryLimit]).toEqual(['2', null, '4Gi', '6Gi']);
  });

  it('accepts nulls that switch Kubernetes features off', () => {
    const o = compileKubernetesOptions({ activeDeadlineSeconds: null, ttlSecondsAfterFinished: null });
    expect([o.activeDeadlineSeconds, o.ttlSecondsAfterFinished]).toEqual([null, null]);
  });

  const invalid: [KubernetesLauncherOptions | unknown, string][] = [
    [{ namespce: 'x' }, "unknown kubernetes launcher option 'namespce'"],
    ['science', 'kubernetes launcher options must be an object, got "science"'],
    [{ namespace: 'Science' }, `kubernetes launcher option 'namespace' must be a DNS label (lower-case letters, digits and -, at most 63 characters), got "Science"`],
    [{ inCluster: 'yes' }, `kubernetes launcher option 'inCluster' must be a boolean, got "yes"`],
    [{ inCluster: true, context: 'prod' }, "kubernetes launcher option 'inCluster' excludes 'context': in a pod the service account is the only credential"],
    [{ inCluster: true, kubeconfig: '/k' }, "kubernetes launcher option 'inCluster' excludes 'kubeconfig': in a pod the service account is the only credential"],
    [{ kubeconfig: '' }, `kubernetes launcher option 'kubeconfig' must be a non-empty path, got ""`],
    [{ image: 'ghcr.io/x y' }, `kubernetes launcher option 'image' must be an image reference without spaces, got "ghcr.io/x y"`],
    [{ imagePullPolicy: 'always' }, `kubernetes launcher option 'imagePullPolicy' must be 'Always', 'IfNotPresent' or 'Never', got "always"`],
    [{ imagePullSecrets: 'regcred' }, `kubernetes launcher option 'imagePullSecrets' must be an array of Secret names, got "regcred"`],
    [{ command: [] }, "kubernetes launcher option 'command' must be a non-empty array of strings, got []"],
    [{ serviceAccountName: 'Bad_SA' }, `kubernetes launcher option 'serviceAccountName' must be a service account name, got "Bad_SA"`],
    [{ cpu: '2 cores' }, `kubernetes launcher option 'cpu' must be a positive Kubernetes quantity such as 2, '500m' or '4Gi', got "2 cores"`],
    [{ cpu: 0 }, `kubernetes launcher option 'cpu' must be a positive Kubernetes quantity such as 2, '500m' or '4Gi', got 0`],
    [{ memory: '4GB' }, `kubernetes launcher option 'memory' must be a positive Kubernetes quantity such as 2, '500m' or '4Gi', got "4GB"`],
    [{ memoryLimit: -1 }, `kubernetes launcher option 'memoryLimit' must be a positive Kubernetes quantity such as 2, '500m' or '4Gi', got -1`],
    [{ gpus: 1.5 }, "kubernetes launcher option 'gpus' must be a non-negative integer, got 1.5"],
    [{ gpuResource: 'nvidia.com/' }, `kubernetes launcher option 'gpuResource' must be an extended resource name such as nvidia.com/gpu, got "nvidia.com/"`],
    [{ nodeSelector: ['gpu'] }, `kubernetes launcher option 'nodeSelector' must be an object of node labels, got ["gpu"]`],
    [{ nodeSelector: { pool: 'a b' } }, `kubernetes launcher option 'nodeSelector' has an invalid value for "pool": "a b"`],
    [{ labels: { 'bad key!': 'x' } }, `kubernetes launcher option 'labels' has an invalid key "bad key!"`],
    [{ labels: { 'clustrix.dev/cluster': 'x' } }, "kubernetes launcher option 'labels' must not set clustrix.dev/cluster: the launcher finds its pods by it (use 'clusterName')"],
    [{ tolerations: [{ key: 'gpu', operator: 'Exists', value: 'x' }] }, `kubernetes launcher option 'tolerations' must be an array of { key, operator, value, effect, tolerationSeconds }, got [{"key":"gpu","operator":"Exists","value":"x"}]`],
    [{ tolerations: [{ key: 'gpu', effect: 'NoSchedule', tolerationSeconds: 5 }] }, `kubernetes launcher option 'tolerations' must be an array of { key, operator, value, effect, tolerationSeconds }, got [{"key":"gpu","effect":"NoSchedule","tolerationSeconds":5}]`],
    [{ env: { CLUSTRIX_TOKEN: 'x' } }, "kubernetes launcher option 'env' must not set CLUSTRIX_TOKEN: the launcher sets it (the address and token travel in a Secret)"],
    [{ env: { GRACE: 5 } }, `kubernetes launcher option 'env' has an invalid value for "GRACE": 5`],
    [{ clusterName: 'My-Cluster' }, `kubernetes launcher option 'clusterName' must be a DNS label of at most 40 characters, got "My-Cluster"`],
    [{ clusterName: 'a'.repeat(41) }, `kubernetes launcher option 'clusterName' must be a DNS label of at most 40 characters, got "${'a'.repeat(41)}"`],
    [{ connectUrl: 'http://coordinator:7420' }, `kubernetes launcher option 'connectUrl' must be a ws:// or wss:// address, got "http://coordinator:7420"`],
    [{ activeDeadlineSeconds: 0 }, "kubernetes launcher option 'activeDeadlineSeconds' must be a positive integer number of seconds, or null, got 0"],
    [{ ttlSecondsAfterFinished: -1 }, "kubernetes launcher option 'ttlSecondsAfterFinished' must be a non-negative integer number of seconds, or null, got -1"],
    [{ backoffLimit: '3' }, `kubernetes launcher option 'backoffLimit' must be a non-negative integer, got "3"`],
    [{ stuckTimeoutMs: Number.NaN }, "kubernetes launcher option 'stuckTimeoutMs' must be a number of milliseconds from 0 to 2147483647, got null"],
  ];
  it.each(invalid)('rejects %j', (options, message) => {
    const thrown = catching(() => compileKubernetesOptions(options as KubernetesLauncherOptions));
    expect(thrown).toBeInstanceOf(TypeError);
    expect((thrown as TypeError).message).toBe(message);
  });
});

function catching(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}
