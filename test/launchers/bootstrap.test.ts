import { createHash } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { cacheAgentBundle, lastLines, prepareJobDirectory, resolveRemotePath, writeTokenFile } from '../../coordinator/backends/launchers/batch/bootstrap.js';
import { SchedulerCommandError } from '../../coordinator/backends/launchers/batch/errors.js';
import { LocalShell } from '../../coordinator/backends/launchers/local-shell.js';
import { awkwardTempDir } from './helpers.js';

let home: string;
let shell: LocalShell;

beforeAll(async () => {
  // a home directory with awkward characters, so every path built from it is exercised
  home = await awkwardTempDir('home');
  shell = new LocalShell({ env: { ...process.env, HOME: home } });
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('prepareJobDirectory', () => {
  test('makes <remoteDir>/jobs/<clusterId> with mode 0700 and asks for the agent once', async () => {
    const ensureAgent = vi.fn(() => Promise.resolve('/x/agent.mjs'));
    const dir = await prepareJobDirectory(shell, { remoteDir: '~/.clustrix', clusterId: 'c1', ensureAgent, timeoutMs: 30_000 });
    expect(dir).toEqual({ home, jobDir: `${home}/.clustrix/jobs/c1`, tokenFile: `${home}/.clustrix/jobs/c1/token`, agentPath: '/x/agent.mjs' });
    expect((await stat(dir.jobDir)).mode & 0o777).toBe(0o700);
    expect((await stat(`${home}/.clustrix/jobs`)).mode & 0o777).toBe(0o700);
    expect(ensureAgent).toHaveBeenCalledTimes(1);
  });

  test('tightens an existing directory that is too open', async () => {
    const ensureAgent = (): Promise<string> => Promise.resolve('/x');
    await prepareJobDirectory(shell, { remoteDir: 'rel', clusterId: 'c2', ensureAgent, timeoutMs: 30_000 });
    await shell.exec(`chmod 755 '${home.replaceAll("'", "'\\''")}/rel/jobs/c2'`);
    await prepareJobDirectory(shell, { remoteDir: 'rel', clusterId: 'c2', ensureAgent, timeoutMs: 30_000 });
    expect((await stat(`${home}/rel/jobs/c2`)).mode & 0o777).toBe(0o700);
  });

  test('an unwritable remoteDir is a SchedulerCommandError with a hint', async () => {
    await writeFile(path.join(home, 'a-file'), '');
    const error = await prepareJobDirectory(shell, { remoteDir: '~/a-file/sub', clusterId: 'c', ensureAgent: () => Promise.resolve(''), timeoutMs: 30_000 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SchedulerCommandError);
    expect((error as SchedulerCommandError).hint).toBe('set remoteDir to a writable directory on a filesystem the compute nodes share');
  });
});

test('writeTokenFile: mode 0600, the token and a newline', async () => {
  const file = path.join(home, 'tok', 'token');
  await writeTokenFile(shell, file, 's3cr3t');
  expect(await readFile(file, 'utf8')).toBe('s3cr3t\n');
  expect((await stat(file)).mode & 0o777).toBe(0o600);
});

describe('cacheAgentBundle', () => {
  test('copies to ~/.clustrix/cache/<sha256>/<its file name> only when missing', async () => {
    const local = path.join(home, 'agent.cjs');
    await writeFile(local, 'console.log("agent v1")\n');
    const sha = createHash('sha256').update('console.log("agent v1")\n').digest('hex');
    const writes = vi.spyOn(shell, 'writeFile');
    const remote = await cacheAgentBundle(local)(shell);
    expect(remote).toBe(`${home}/.clustrix/cache/${sha}/agent.cjs`);
    expect(await readFile(remote, 'utf8')).toBe('console.log("agent v1")\n');
    expect(writes).toHaveBeenCalledTimes(1);
    // a second launcher with the same bundle finds it there
    expect(await cacheAgentBundle(local)(shell)).toBe(remote);
    expect(writes).toHaveBeenCalledTimes(1);
    writes.mockRestore();
  });

  test('a failure does not stick: the next call tries again', async () => {
    const local = path.join(home, 'later.cjs');
    const ensure = cacheAgentBundle(local, { cacheDir: '~/cache2' });
    await expect(ensure(shell)).rejects.toThrow(/ENOENT/);
    await writeFile(local, 'x');
    expect(await ensure(shell)).toMatch(/\/cache2\/[0-9a-f]{64}\/later\.cjs$/);
  });
});

test('resolveRemotePath and lastLines', () => {
  expect(resolveRemotePath('~', '/home/u/')).toBe('/home/u');
  expect(resolveRemotePath('~/.clustrix/', '/home/u')).toBe('/home/u/.clustrix');
  expect(resolveRemotePath('scratch/x', '/home/u')).toBe('/home/u/scratch/x');
  expect(resolveRemotePath('/abs/', '/home/u')).toBe('/abs');
  expect(lastLines('a\nb\nc\n', 2)).toBe('b\nc');
  expect(lastLines('a\nb\nc', 5)).toBe('a\nb\nc');
  expect(lastLines('a\n', 0)).toBe('');
});
