/**
 * The kubernetes launcher: agents as pods of Indexed Jobs, from the image Dockerfile.agent builds.
 * See deploy/kubernetes/README.md for the image, RBAC and how pods reach the coordinator.
 *
 * ```ts
 * import { KubernetesLauncher, indexedAgentIds } from './launchers/kubernetes/index.js';
 *
 * const launcher = new KubernetesLauncher({ context: 'gpu-cluster', namespace: 'science', gpus: 1,
 *   tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }] });
 * const jobs = await launcher.launch({ connect: { url, token }, agentIds: indexedAgentIds('gpu-1', 8) });
 * // ... later, for a Job whose agents never connected:
 * const [s] = await launcher.status([jobs[0].jobId]);
 * if (s.state === 'failed') throw await launcher.startError(s.jobId);
 * await launcher.close(); // deletes every Job (and Secret) it created, foreground propagation
 * ```
 */
export { KubernetesLauncher } from './launcher.js';
export {
  compileKubernetesOptions,
  packageVersion,
  CLUSTER_LABEL,
  JOB_LABEL,
  type KubernetesLauncherOptions,
  type CompiledKubernetesOptions,
  type KubernetesToleration,
} from './options.js';
export { renderJob, renderSecret, indexedAgentIds, agentIdEnv, CONTAINER_NAME, type JobManifestInput } from './manifests.js';
export { podProblem, jobStatus, StuckClock, type PodProblem, type JobView } from './diagnosis.js';
export { jobStartError, type FailureReport } from './start-error.js';
export { loadKubeConfig } from './api.js';
