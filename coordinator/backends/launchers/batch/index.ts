/**
 * Launchers that start agents as batch jobs (SLURM, PBS, SGE) or as plain processes on SSH hosts,
 * all through a RemoteShell (SshShell to a login node, or LocalShell on it).
 *
 * ```ts
 * import { LocalShell } from '../local-shell.js';
 * import { SlurmLauncher, cacheAgentBundle } from './batch/index.js';
 *
 * const launcher = new SlurmLauncher({
 *   shell: new LocalShell(),
 *   ensureAgent: cacheAgentBundle('dist/bundle/agent.cjs'),
 *   resources: { cpusPerTask: 4, memory: '8G', time: '02:00:00', partition: 'short' },
 *   setup: ['module load nodejs/20'],
 * });
 * const jobs = await launcher.launch({ connect: { url, token }, agentIds: ['a1', 'a2'] });
 * await launcher.status(jobs.map((j) => j.jobId));   // [{ jobId, state: 'pending', reason: 'Priority' }, ...]
 * await launcher.close();                             // cancels what is still queued or running
 * ```
 */
export { SlurmLauncher, type SlurmLauncherOptions } from './slurm.js';
export { PbsLauncher, type PbsLauncherOptions } from './pbs.js';
export { SgeLauncher, type SgeLauncherOptions } from './sge.js';
export { SshHostsLauncher, type SshHostsLauncherOptions, type SshHostSpec } from './ssh-hosts.js';
export type { BatchLauncherOptions } from './batch-launcher.js';
export type { CommonLauncherOptions } from './options.js';
export { compileResources, type ResourceOptions, type CompiledResources, type SchedulerKind } from './resources.js';
export { renderJobScript, type JobScriptSpec, type SchedulerDialect } from './job-script.js';
export { cacheAgentBundle, type CacheAgentOptions, type EnsureAgent } from './bootstrap.js';
export { JobRejectedError, SchedulerCommandError } from './errors.js';
export { shellQuote, shellJoin } from './shell-quote.js';
export {
  parseQacct,
  parsePbsQstatFull,
  parseQsubJobId,
  parseSacct,
  parseSbatchParsable,
  parseScontrolJobs,
  parseSgeErrorReason,
  parseSgeQstatXml,
  parseSqueue,
} from './parsers.js';
