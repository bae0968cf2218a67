/**
 * RemoteShell on this machine, with child_process and fs: for a coordinator that runs on the
 * login node itself (sbatch/qsub are local commands there), and for tests against the real
 * schedulers without SSH. The SSH implementation lives in coordinator/ssh.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { withoutSecrets } from '../../../protocol/secret-env.js';
import { CommandTimeoutError } from './command-timeout.js';
import type { ExecOptions, ExecResult, RemoteShell } from './remote-shell.js';

export interface LocalShellOptions {
  /** The shell that runs each command line as `<shell> -c <command>`. @default '/bin/sh' */
  shell?: string;
  /** Time limit of a command when exec() is given none, in ms. @default 60000 */
  defaultTimeoutMs?: number;
  /** Environment of the commands. @default process.env without clustrix's secret variables (protocol/secret-env.ts) */
  env?: NodeJS.ProcessEnv;
}

export class LocalShell implements RemoteShell {
  readonly description = 'localhost';
  private readonly shellPath: string;
  private readonly defaultTimeoutMs: number;
  private readonly env: NodeJS.ProcessEnv;

  constructor(options: LocalShellOptions = {}) {
    this.shellPath = options.shell ?? '/bin/sh';
    const timeout = options.defaultTimeoutMs ?? 60_000;
    if (!Number.isSafeInteger(timeout) || timeout < 1) throw new TypeError(`defaultTimeoutMs must be a positive integer, got ${String(timeout)}`);
    this.defaultTimeoutMs = timeout;
    // sbatch and `qsub -V` copy the submitting environment into the job (and its accounting record).
    this.env = options.env ?? withoutSecrets(process.env);
  }

  exec(command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const timeoutMs = options.timeoutMs ?? this.defaultTimeoutMs;
    return new Promise((resolve, reject) => {
      // detached: the command leads its own process group, so a timeout kills what it started too
      // (a stuck `qstat` wrapper's children); background jobs it starts (setsid) are unaffected.
      const child = spawn(this.shellPath, ['-c', command], { detached: true, env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let settled = false;
      const timer = setTimeout(() => {
        settled = true;
        killGroup(child.pid);
        // settle now: a process that left the group (setsid) may still hold the pipes open
        child.stdout.destroy();
        child.stderr.destroy();
        reject(new CommandTimeoutError(command, timeoutMs, this.description));
      }, timeoutMs);
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (error) => {
        clearTimeout(timer);
        if (!settled) reject(error);
        settled = true;
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        if (!settled) resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code });
        settled = true;
      });
      // A command that does not read its stdin closes the pipe early: that is not an error.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.stdin ?? '');
    });
  }

  async writeFile(filePath: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
    const dir = path.dirname(filePath);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const temp = path.join(dir, `.${path.basename(filePath)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      // created with the final mode (no window where a token file is readable by others); chmod
      // again because the umask may have taken bits away
      await writeFile(temp, data, { mode, flag: 'wx' });
      await chmod(temp, mode);
      await rename(temp, filePath);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async readTail(filePath: string, maxBytes: number): Promise<string> {
    let handle;
    try {
      handle = await open(filePath, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw error;
    }
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, Math.max(0, maxBytes));
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, size - length);
      return buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  }

  async exists(filePath: string): Promise<boolean> {
    try {
      await stat(filePath);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
      throw error;
    }
  }

  home(): Promise<string> {
    return Promise.resolve(this.env.HOME || os.homedir());
  }

  /** Nothing to release: every exec() owns its own child process. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
