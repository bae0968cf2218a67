/**
 * What every launcher does on the cluster before its first job: a private per-cluster job
 * directory, the token file in it, and the agent bundle on the shared filesystem.
 *
 *   <remoteDir>/jobs/<clusterId>/          mode 0700: scripts, logs, token
 *   <remoteDir>/jobs/<clusterId>/token     mode 0600: read by the agents (CLUSTRIX_TOKEN_FILE)
 *   ~/.clustrix/cache/<sha256>/agent.cjs   content-addressed bundle, written only when missing
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ConfigError } from '../../../errors/errors.js';
import type { JobLogs } from '../launcher.js';
import type { RemoteShell } from '../remote-shell.js';
import { SchedulerCommandError } from './errors.js';
import { shellQuote } from './shell-quote.js';

/** Makes the agent bundle present on the cluster; resolves to the remote path of its agent.cjs. */
export type EnsureAgent = (shell: RemoteShell) => Promise<string>;

export interface JobDirectory {
  /** The remote user's home directory. */
  home: string;
  /** Absolute path of the per-cluster job directory (mode 0700). */
  jobDir: string;
  /** Absolute path of the token file inside it (mode 0600 once written). */
  tokenFile: string;
  /** Remote path of agent.cjs, from ensureAgent. */
  agentPath: string;
}

export interface PrepareOptions {
  /** Base directory; `~` or `~/...` is the remote home, a relative path is taken from the home. */
  remoteDir: string;
  clusterId: string;
  ensureAgent: EnsureAgent;
  timeoutMs: number;
}

export async function prepareJobDirectory(shell: RemoteShell, options: PrepareOptions): Promise<JobDirectory> {
  const home = await shell.home();
  const base = resolveRemotePath(options.remoteDir, home);
  const jobDir = `${base}/jobs/${options.clusterId}`;
  // umask 077: parents made here are private too; chmod: the directory may exist with a wider mode.
  const command = `umask 077 && mkdir -p ${shellQuote(jobDir)} && chmod 700 ${shellQuote(jobDir)}`;
  const result = await shell.exec(command, { timeoutMs: options.timeoutMs });
  if (result.code !== 0) {
    throw new SchedulerCommandError(`cannot make the job directory on ${shell.description}`, {
      command,
      stderr: result.stderr,
      exitCode: result.code,
      hint: 'set remoteDir to a writable directory on a filesystem the compute nodes share',
    });
  }
  const agentPath = await options.ensureAgent(shell);
  return { home, jobDir, tokenFile: `${jobDir}/token`, agentPath };
}

/** Writes the token (0600) atomically; agents that already started keep what they read. */
export async function writeTokenFile(shell: RemoteShell, tokenFile: string, token: string): Promise<void> {
  await shell.writeFile(tokenFile, `${token}\n`, 0o600);
}

/** `~` and `~/x` against the remote home; a relative path is relative to the home (where ssh lands). */
export function resolveRemotePath(path: string, home: string): string {
  const h = home.replace(/\/+$/, '');
  let resolved: string;
  if (path === '~') resolved = h;
  else if (path.startsWith('~/')) resolved = `${h}/${path.slice(2)}`;
  else if (path.startsWith('/')) resolved = path;
  else resolved = `${h}/${path}`;
  return resolved.length > 1 ? resolved.replace(/\/+$/, '') : resolved;
}

export interface CacheAgentOptions {
  /** Remote cache root; `~` is the remote home. @default '~/.clustrix/cache' */
  cacheDir?: string;
}

/**
 * An EnsureAgent that copies a local agent bundle to `<cacheDir>/<sha256>/<its file name>`
 * (agent.cjs: the extension says how node loads it) through the RemoteShell seam, only when that
 * file is missing (a content-addressed name never goes stale).
 * Fine for LocalShell and small bundles; the SFTP uploader of coordinator/ssh can replace it.
 */
export function cacheAgentBundle(localBundlePath: string, options: CacheAgentOptions = {}): EnsureAgent {
  const cacheDir = options.cacheDir ?? '~/.clustrix/cache';
  let content: Promise<{ bytes: Buffer; sha256: string }> | undefined;
  const known = new WeakMap<RemoteShell, Promise<string>>();
  const load = (): Promise<{ bytes: Buffer; sha256: string }> =>
    (content ??= readFile(localBundlePath).then(
      (bytes) => ({ bytes, sha256: createHash('sha256').update(bytes).digest('hex') }),
      (error: unknown) => {
        content = undefined; // e.g. the bundle is being built: read it again next time
        throw error;
      },
    ));
  return (shell) => {
    let done = known.get(shell);
    if (!done) {
      done = (async () => {
        const { bytes, sha256 } = await load();
        const remote = `${resolveRemotePath(cacheDir, await shell.home())}/${sha256}/${basename(localBundlePath)}`;
        if (!(await shell.exists(remote))) await shell.writeFile(remote, bytes, 0o644);
        return remote;
      })();
      // a failure (network, disk full) must not stick: the next launch tries again
      done.catch(() => known.delete(shell));
      known.set(shell, done);
    }
    return done;
  };
}

/** The last `count` lines of `text` (a trailing newline does not count as an empty last line). */
export function lastLines(text: string, count: number): string {
  if (count <= 0 || text === '') return '';
  const body = text.endsWith('\n') ? text.slice(0, -1) : text;
  const lines = body.split('\n');
  return lines.slice(Math.max(0, lines.length - count)).join('\n');
}

/** How many bytes to read from a log's end to hold `lines` lines in practice: long lines are cut. */
function tailBytesFor(lines: number): number {
  return Math.min(4 * 1024 * 1024, Math.max(4096, lines * 1024));
}

/**
 * The last `lines` lines of a job's stdout and stderr files (one place for every batch launcher);
 * empty for a job the launcher did not start (`job` undefined).
 */
export async function readJobLogs(job: { shell: RemoteShell; stdoutPath: string; stderrPath: string } | undefined, lines: number): Promise<JobLogs> {
  if (!Number.isSafeInteger(lines) || lines < 0) throw new ConfigError(`lines must be a non-negative integer, got ${String(lines)}`);
  if (!job || lines === 0) return { stdout: '', stderr: '' };
  const bytes = tailBytesFor(lines);
  const [stdout, stderr] = await Promise.all([job.shell.readTail(job.stdoutPath, bytes), job.shell.readTail(job.stderrPath, bytes)]);
  return { stdout: lastLines(stdout, lines), stderr: lastLines(stderr, lines) };
}
