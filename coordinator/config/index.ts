/**
 * Config profiles: `Cluster.start({ profile: 'hpc', ...overrides })` takes its options from a
 * profile of a YAML file, checked key by key.
 *
 * ```ts
 * import { resolveProfile } from './config/index.js';
 *
 * // ./clustrix.config.yaml (else ~/.config/clustrix/config.yaml):
 * //   profiles:
 * //     hpc: { backend: slurm, ssh: { host: login.hpc.example.edu }, resources: { cpusPerTask: 8 } }
 * const options = resolveProfile({ profile: 'hpc', agents: 16, resources: { time: 30 } });
 * // { backend: 'slurm', ssh: { host: 'login.hpc.example.edu' }, resources: { cpusPerTask: 8, time: 30 }, agents: 16 }
 * ```
 */
export {
  configFileCandidates,
  findConfigFile,
  loadConfig,
  mergeProfile,
  PROJECT_CONFIG_NAME,
  resolveProfile,
  selectProfile,
  type ClustrixConfig,
  type ConfigSearch,
} from './config-file.js';
export { configFileSchema, profileSchema, type ProfileOptions } from './profile-schema.js';
export { BACKENDS, clusterOptionsSchema, profileNameSchema, type BackendName, type ClusterOptions } from './options-schema.js';
export { resolveClusterOptions, type ResolvedClusterOptions } from './options.js';
export { parseOptions } from './parse-options.js';
export { hostsSchema, sshSchema, type SshHostOption } from './ssh-schema.js';
export { resourcesSchema } from './batch-schema.js';
export { kubernetesSchema, type KubernetesOptions } from './kubernetes-schema.js';
export { configTemplate } from './init-template.js';
