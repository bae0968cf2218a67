import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));
export const FIXTURES = fileURLToPath(new URL('../fixtures/service/', import.meta.url));

/** An environment whose config dir (and so state files) belongs to one test file. */
export function isolatedEnv(): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'clustrix-svc-'));
  return { ...process.env, XDG_CONFIG_HOME: dir, NO_COLOR: '1', CLUSTRIX_PROFILE: '', CLUSTRIX_ADDRESS: '' };
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `clustrix ...args` to completion. */
export function cli(args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 120_000, cwd?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: timeoutMs, cwd }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts a node script; collects its output. */
export function node(script: string, args: readonly string[], env: NodeJS.ProcessEnv): { child: ChildProcess; output: () => string; exit: Promise<number> } {
  const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  const exit = new Promise<number>((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return { child, output: () => text, exit };
}
