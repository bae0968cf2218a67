import { MAX_TIMER_MS } from '../../../../protocol/durations.js';
/**
 * Options every launcher here shares, with their defaults, and their compilation into a fully
 * resolved object (every field set, every value checked) once, at construction.
 */
import { randomBytes } from 'node:crypto';
import type { RemoteShell } from '../remote-shell.js';
import type { EnsureAgent } from './bootstrap.js';
import { line, positiveInt, show, stringList } from './validate.js';

export interface CommonLauncherOptions {
  /**
   * Makes the agent bundle present on the cluster and resolves to the remote path of agent.cjs,
   * e.g. `cacheAgentBundle(localPathOfAgentMjs)`. Called once per shell.
   */
  ensureAgent: EnsureAgent;
  /**
   * Names this cluster's job directory `<remoteDir>/jobs/<clusterId>/`; letters, digits, `.`, `_`, `-`.
   * @default 12 random hex digits
   */
  clusterId?: string;
  /**
   * Where job scripts, logs and the token file live, on a filesystem the compute nodes share.
   * `~` is the remote home; a relative path is taken from the home.
   * @default '~/.clustrix'
   */
  remoteDir?: string;
  /** The Node.js (20 or newer) command on the compute nodes: a name on PATH or an absolute path. @default 'node' */
  node?: string;
  /**
   * Shell lines run before the agent starts, verbatim and in order: `module load nodejs/20`,
   * `export NODE_OPTIONS=--max-old-space-size=8192`, `source ~/venv/bin/activate`, ... They run
   * under `set -eo pipefail` in a non-login bash, where some sites define `module` only after
   * `source /etc/profile.d/modules.sh` (or lmod.sh). CLUSTRIX_* variables set here reach the agent.
   * @default []
   */
  setup?: readonly string[];
  /** Directory the agents run in (`~` allowed). @default the job directory */
  workDir?: string;
  /**
   * Prefix of job names (the first agent id is appended). Letters, digits, `.`, `_`, `-`,
   * starting with a letter, at most 32 characters: the subset every scheduler accepts.
   * @default 'clustrix'
   */
  jobName?: string;
  /** Time limit of each command run on the login node (submit, status, cancel), in ms. @default 60000 */
  commandTimeoutMs?: number;
}

export interface CompiledCommonOptions {
  ensureAgent: EnsureAgent;
  clusterId: string;
  remoteDir: string;
  node: string;
  setup: readonly string[];
  workDir: string | undefined;
  jobName: string;
  commandTimeoutMs: number;
}

/** Job names every scheduler accepts; the options schema checks `jobName` with it too. */
export const JOB_NAME = /^[A-Za-z][A-Za-z0-9._-]{0,31}$/;

export const COMMON_KEYS = ['ensureAgent', 'clusterId', 'remoteDir', 'node', 'setup', 'workDir', 'jobName', 'commandTimeoutMs'] as const;

export function compileCommonOptions(options: CommonLauncherOptions): CompiledCommonOptions {
  if (typeof options.ensureAgent !== 'function') {
    throw new TypeError(`ensureAgent must be a function (shell) => Promise<path of agent.cjs>, got ${show(options.ensureAgent)}`);
  }
  const clusterId = options.clusterId === undefined ? randomBytes(6).toString('hex') : line(options.clusterId, 'clusterId');
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(clusterId) || clusterId.startsWith('.')) {
    throw new TypeError(`clusterId must be 1 to 64 letters, digits, '.', '_' or '-' (not starting with '.'), got ${show(clusterId)}`);
  }
  const jobName = options.jobName === undefined ? 'clustrix' : line(options.jobName, 'jobName');
  if (!JOB_NAME.test(jobName)) {
    throw new TypeError(`jobName must start with a letter and hold at most 32 letters, digits, '.', '_' or '-', got ${show(jobName)}`);
  }
  return {
    ensureAgent: options.ensureAgent,
    clusterId,
    remoteDir: options.remoteDir === undefined ? '~/.clustrix' : line(options.remoteDir, 'remoteDir'),
    node: options.node === undefined ? 'node' : line(options.node, 'node'),
    setup: stringList(options.setup, 'setup', false),
    workDir: options.workDir === undefined ? undefined : line(options.workDir, 'workDir'),
    jobName,
    commandTimeoutMs: options.commandTimeoutMs === undefined ? 60_000 : Math.min(positiveInt(options.commandTimeoutMs, 'commandTimeoutMs'), MAX_TIMER_MS),
  };
}

/** A RemoteShell as far as a plain object can be checked: the methods the launchers call. */
export function checkShell(value: unknown, path: string): RemoteShell {
  const methods = ['exec', 'writeFile', 'readTail', 'exists', 'home'];
  if (typeof value !== 'object' || value === null || !methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function')) {
    throw new TypeError(`${path} must be a RemoteShell (LocalShell, or SshShell from coordinator/ssh), got ${show(value)}`);
  }
  return value as unknown as RemoteShell;
}

/** Turns an agent id into a file-name-safe word for job names and file names. */
export function safeName(text: string): string {
  const cleaned = text.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[._-]+/, '');
  return cleaned.slice(0, 40) || 'agent';
}

/** `maxArraySize`: undefined (the scheduler's), or a positive integer. */
export function compileMaxArraySize(value: unknown): number | undefined {
  return value === undefined ? undefined : positiveInt(value, 'maxArraySize');
}
