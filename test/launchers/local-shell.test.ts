import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { shellQuote } from '../../coordinator/backends/launchers/batch/shell-quote.js';
import { CommandTimeoutError } from '../../coordinator/backends/launchers/command-timeout.js';
import { LocalShell } from '../../coordinator/backends/launchers/local-shell.js';
import { isAlive, waitUntil } from '../helpers/processes.js';

let dir: string;
const shell = new LocalShell();

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "clustrix local-shell 'q' "));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('LocalShell.exec', () => {
  test('runs a command line with sh -c semantics; a non-zero exit resolves with its code', async () => {
    expect(await shell.exec('echo out; echo err >&2; exit 4')).toEqual({ stdout: 'out\n', stderr: 'err\n', code: 4 });
  });

  test('passes stdin (as qsub reads a job script) and closes it', async () => {
    const result = await shell.exec('wc -c; cat', { stdin: 'line 1\nline 2\n' });
    expect(result.stdout).toBe('14\n');
  });

  test('a command that ignores its stdin is fine', async () => {
    expect((await shell.exec('true', { stdin: 'x'.repeat(1 << 20) })).code).toBe(0);
  });

  test("keeps this process's clustrix secrets out of commands (sbatch would copy them into the job)", async () => {
    const secrets = { CLUSTRIX_TOKEN: 'shell-tok-3e1f', CLUSTRIX_SSH_PASSPHRASE: 'shell-pass-77a0', CLUSTRIX_CREDENTIAL: 'shell-cred-91c2' };
    Object.assign(process.env, secrets, { CLUSTRIX_SHELL_PLAIN: 'plain-5b' });
    try {
      const { stdout } = await new LocalShell().exec('env');
      for (const value of Object.values(secrets)) expect(stdout).not.toContain(value);
      expect(stdout).toContain('CLUSTRIX_SHELL_PLAIN=plain-5b');
    } finally {
      for (const name of [...Object.keys(secrets), 'CLUSTRIX_SHELL_PLAIN']) delete process.env[name];
    }
  });

  test('a signal gives code null', async () => {
    expect((await shell.exec('kill -9 $$')).code).toBeNull();
  });

  test('times out: rejects with CommandTimeoutError and kills the whole process group', async () => {
    const marker = path.join(dir, 'child.pid');
    const started = Date.now();
    const error = await shell.exec(`sleep 30 & echo $! > ${shellQuote(marker)}; wait`, { timeoutMs: 3000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CommandTimeoutError);
    expect(error).toMatchObject({ code: 'COMMAND_TIMEOUT', timeoutMs: 3000 });
    expect(Date.now() - started).toBeLessThan(20_000);
    const pid = Number(await readFile(marker, 'utf8'));
    // the grandchild `sleep` went with the group (a zombie awaiting its reaper counts as gone)
    await waitUntil(() => !isAlive(pid), { timeoutMs: 2_000, what: `the grandchild sleep ${pid} to go` });
  });
});

describe('LocalShell files', () => {
  test('writeFile: makes parents, sets the mode despite the umask, leaves no temp file', async () => {
    const file = path.join(dir, 'a b', "c 'd'", 'token');
    await shell.writeFile(file, 'secret\n');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    await shell.writeFile(file, new Uint8Array([104, 105]), 0o755);
    expect(await readFile(file, 'utf8')).toBe('hi');
    expect((await stat(file)).mode & 0o777).toBe(0o755);
    expect(await readdir(path.dirname(file))).toEqual(['token']);
  });

  test('readTail: the last bytes; empty for a missing file', async () => {
    const file = path.join(dir, 'log');
    await writeFile(file, 'first\nsecond\nthird\n');
    expect(await shell.readTail(file, 6)).toBe('third\n');
    expect(await shell.readTail(file, 1000)).toBe('first\nsecond\nthird\n');
    expect(await shell.readTail(path.join(dir, 'missing'), 10)).toBe('');
  });

  test('exists and home', async () => {
    expect(await shell.exists(dir)).toBe(true);
    expect(await shell.exists(path.join(dir, 'nope'))).toBe(false);
    expect(await shell.exists(path.join(dir, 'log', 'under-a-file'))).toBe(false);
    expect(await shell.home()).toBe(process.env.HOME || os.homedir());
    expect(shell.description).toBe('localhost');
  });
});
