/**
 * Shared by the launcher tests: gating of the tests that need a real scheduler, the fake agent,
 * temporary directories whose names hold a blank, quotes and `$`, and polling.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** CI sets CLUSTRIX_TEST_CLUSTER=1: the cluster tests must then run (and fail if a scheduler is missing). */
export const CLUSTER_REQUIRED = process.env.CLUSTRIX_TEST_CLUSTER === '1';

/** True when `command args` exits 0 within 15 s. */
export function answers(command: string, args: readonly string[]): boolean {
  const result = spawnSync(command, args, { timeout: 15_000, stdio: 'ignore' });
  return result.status === 0;
}

/** Whether to skip a cluster test file: never when required, else when the scheduler does not answer. */
export function skipUnlessAnswers(command: string, args: readonly string[]): boolean {
  return !CLUSTER_REQUIRED && !answers(command, args);
}

export const FIXTURES = fileURLToPath(new URL('../fixtures/launchers/', import.meta.url));
export const FAKE_AGENT = path.join(FIXTURES, 'fake-agent.mjs');

export function fixture(name: string): Promise<string> {
  return readFile(path.join(FIXTURES, name), 'utf8');
}

/** A fresh directory whose name holds blanks, single and double quotes and a `$` (not $HOME: SGE expands that one in -o paths). */
export function awkwardTempDir(label: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `clustrix ${label} $x 'q' "d" `));
}

/** Polls `probe` until it returns a value other than undefined; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 300): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Pids of the processes whose command line names something under `dir` (a job's script, its agent). */
export async function processesUnder(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(dir)) pids.push(Number(entry));
  }
  return pids;
}

/** Every file under `dir` (recursively) whose content holds `needle`. */
export async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const hits: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    if ((await readFile(file, 'utf8')).includes(needle)) hits.push(file);
  }
  return hits;
}

/** The JSON line the fake agent prints, once it is in `stdout`. */
export function fakeAgentReport(stdout: string): Record<string, unknown> | undefined {
  const line = stdout.split('\n').find((l) => l.startsWith('{"fakeAgent":true'));
  return line ? (JSON.parse(line) as Record<string, unknown>) : undefined;
}
