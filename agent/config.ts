import { closeSync, readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import type { Resources } from '../protocol/resources.js';
import { SECRET_ENV } from '../protocol/secret-env.js';
import { AgentConfigError } from './config-error.js';
import { detectResources, gpuDevices } from './resources.js';

/**
 * How an agent learns where to connect and how to authenticate: environment variables, and for the
 * secret a 0600 file or a pipe. Never argv: other users on a cluster node can read it with `ps`.
 * Once read, main.ts deletes every variable of protocol/secret-env.ts from process.env, before any
 * task code or worker thread exists; a variable the process was started with still shows in its
 * /proc/<pid>/environ (readable by tasks, same user), which is why the local launcher uses the pipe.
 *
 * | variable | meaning |
 * |---|---|
 * | CLUSTRIX_URL | ws:// or wss:// address of the coordinator (required) |
 * | CLUSTRIX_TOKEN | the per-cluster secret |
 * | CLUSTRIX_TOKEN_FD | or: an inherited file descriptor (a pipe) to read it from, to EOF, once; then closed (the local launcher) |
 * | CLUSTRIX_TOKEN_FILE | or: a file holding it, which must not be readable by group or others (batch launchers) |
 * | CLUSTRIX_AGENT_ID | id assigned by the launcher; `{NAME}` is replaced by env var NAME (e.g. `{SLURM_PROCID}`) |
 * | CLUSTRIX_JOB_ID | the batch job's id, reported in hello (defaults from SLURM_JOB_ID, JOB_ID, PBS_JOBID) |
 * | CLUSTRIX_SLOTS | worker threads (default os.availableParallelism()) |
 * | CLUSTRIX_INLINE_CONCURRENCY | inline async tasks at once (default 64) |
 * | CLUSTRIX_GRACE_MS | exit after the coordinator is unreachable this long (default 60000) |
 * | CLUSTRIX_WALLTIME_END | epoch ms when the job's walltime ends (launchers set it) |
 * | CLUSTRIX_CERT_FINGERPRINT | for wss: SHA-256 fingerprint of the coordinator certificate to pin |
 * | CLUSTRIX_EXIT_WITH_STDIN | `1`: exit when stdin closes (the local launcher's parent-death signal) |
 * | CLUSTRIX_CACHE_DIR | where shipped modules are written (default <tmpdir>/clustrix-<uid>/code) |
 * | CLUSTRIX_MAX_FRAME_BYTES | largest frame accepted (default 256 MiB) |
 * | CLUSTRIX_THREAD_WRITES | `0`: worker threads hand every result to the main thread to send, instead of writing a lone small one to a plain-TCP coordinator socket themselves (agent/thread-writes.ts; default on) |
 * | CLUSTRIX_RESOURCES | custom resources it offers, JSON (`{"licenses": 2}`); GPUs come from CUDA_VISIBLE_DEVICES, SLURM, or nvidia-smi |
 */
export interface AgentConfig {
  url: string;
  token: string;
  agentId: string | null;
  jobId: string | null;
  slots: number;
  inlineConcurrency: number;
  graceMs: number;
  walltimeEnd: number | null;
  certFingerprint: string | null;
  exitWithStdin: boolean;
  cacheDir: string;
  maxFrameBytes: number;
  /** Worker threads may write lone results to the coordinator's socket themselves (thread-writes.ts). */
  threadWrites: boolean;
  /** What it offers tasks (resources.ts). */
  resources: Resources;
  /** GPU device ids it hands to GPU tasks, one set per task (their threads see only those). */
  gpuDevices: string[];
}

export { AgentConfigError };

export function readAgentConfig(env: NodeJS.ProcessEnv = process.env): AgentConfig {
  const url = env.CLUSTRIX_URL;
  if (!url || !/^wss?:\/\//.test(url)) {
    throw new AgentConfigError(`CLUSTRIX_URL must be a ws:// or wss:// address, got ${url ? JSON.stringify(url) : 'nothing'}`);
  }
  const slots = positiveInt(env, 'CLUSTRIX_SLOTS', os.availableParallelism());
  return {
    url,
    token: readToken(env),
    agentId: env.CLUSTRIX_AGENT_ID ? substitute(env.CLUSTRIX_AGENT_ID, env) : null,
    jobId: env.CLUSTRIX_JOB_ID || env.SLURM_JOB_ID || env.JOB_ID || env.PBS_JOBID || null,
    slots,
    inlineConcurrency: positiveInt(env, 'CLUSTRIX_INLINE_CONCURRENCY', 64),
    graceMs: positiveInt(env, 'CLUSTRIX_GRACE_MS', 60_000),
    walltimeEnd: env.CLUSTRIX_WALLTIME_END ? positiveInt(env, 'CLUSTRIX_WALLTIME_END', 0) : null,
    certFingerprint: env.CLUSTRIX_CERT_FINGERPRINT || null,
    exitWithStdin: env.CLUSTRIX_EXIT_WITH_STDIN === '1',
    cacheDir: env.CLUSTRIX_CACHE_DIR || `${os.tmpdir()}/clustrix-${process.getuid?.() ?? 'user'}/code`,
    maxFrameBytes: positiveInt(env, 'CLUSTRIX_MAX_FRAME_BYTES', 256 * 1024 * 1024),
    threadWrites: env.CLUSTRIX_THREAD_WRITES !== '0',
    resources: detectResources(slots, env),
    gpuDevices: gpuDevices(env),
  };
}

/** Deletes the secret variables from `env` (process.env: the real environment, and what threads and children copy). */
export function dropSecretEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of SECRET_ENV) delete env[name];
}

function readToken(env: NodeJS.ProcessEnv): string {
  if (env.CLUSTRIX_TOKEN) return env.CLUSTRIX_TOKEN;
  if (env.CLUSTRIX_TOKEN_FD) return readTokenFd(env.CLUSTRIX_TOKEN_FD);
  const file = env.CLUSTRIX_TOKEN_FILE;
  if (!file) throw new AgentConfigError('set CLUSTRIX_TOKEN, CLUSTRIX_TOKEN_FD or CLUSTRIX_TOKEN_FILE (the cluster secret)');
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (cause) {
    throw new AgentConfigError(`cannot read CLUSTRIX_TOKEN_FILE ${file}: ${(cause as Error).message}`);
  }
  if ((mode & 0o077) !== 0) {
    throw new AgentConfigError(`CLUSTRIX_TOKEN_FILE ${file} is readable by other users (mode ${(mode & 0o777).toString(8)}); chmod 600 it`);
  }
  const token = readFileSync(file, 'utf8').trim();
  if (!token) throw new AgentConfigError(`CLUSTRIX_TOKEN_FILE ${file} is empty`);
  return token;
}

function readTokenFd(raw: string): string {
  const fd = Number(raw);
  if (!Number.isInteger(fd) || fd < 3) throw new AgentConfigError(`CLUSTRIX_TOKEN_FD must be a file descriptor number above 2, got ${JSON.stringify(raw)}`);
  let token: string;
  try {
    token = readFileSync(fd, 'utf8').trim();
  } catch (cause) {
    throw new AgentConfigError(`cannot read the token from CLUSTRIX_TOKEN_FD ${fd}: ${(cause as Error).message}`);
  } finally {
    // Not inherited by what tasks spawn (an inherited descriptor has no close-on-exec flag).
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
  if (!token) throw new AgentConfigError(`CLUSTRIX_TOKEN_FD ${fd} gave an empty token`);
  return token;
}

function substitute(template: string, env: NodeJS.ProcessEnv): string {
  return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? '0');
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new AgentConfigError(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n === 0 ? fallback : n;
}
