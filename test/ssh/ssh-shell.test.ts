import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SshConnectionPool, SshShell } from '../../coordinator/backends/ssh/index.js';
import type { RemoteShell } from '../../coordinator/backends/launchers/remote-shell.js';
import { remoteScratch, SSH, sshAvailable, sshOptions } from './ssh-env.js';

describe.skipIf(!sshAvailable)('SshShell (RemoteShell over exec + SFTP)', () => {
  const pool = new SshConnectionPool();
  let shell: SshShell;
  const dir = remoteScratch('shell');
  beforeAll(async () => {
    shell = await SshShell.connect({ ...sshOptions(), pool });
  });
  afterAll(async () => {
    await shell?.exec(`rm -rf ~/${dir}`);
    await shell?.close();
    await pool.closeAll();
  });

  test('is a RemoteShell with a user@host:port description', () => {
    const asInterface: RemoteShell = shell;
    expect(asInterface.description).toBe(`${SSH.user}@${SSH.host}:${SSH.port}`);
  });

  test('home() is the remote home, absolute', async () => {
    const home = await shell.home();
    expect(home.startsWith('/')).toBe(true);
    expect(home).toBe((await shell.exec('printf %s "$HOME"')).stdout);
  });

  test('writeFile makes parent dirs, sets the mode (default 0600), and reads back', async () => {
    await shell.writeFile(`~/${dir}/a/b/secret.txt`, 'token=abc\n');
    await shell.writeFile(`${dir}/a/public.sh`, new TextEncoder().encode('#!/bin/sh\necho hi\n'), 0o755);
    const { stdout } = await shell.exec(`cd ~/${dir}/a && stat -c '%a %n' b/secret.txt public.sh && cat b/secret.txt && ./public.sh`);
    expect(stdout).toBe('600 b/secret.txt\n755 public.sh\ntoken=abc\nhi\n');
  });

  test('writeFile replaces an existing file atomically and leaves no temp file', async () => {
    const path = `~/${dir}/replace.txt`;
    await shell.writeFile(path, 'one');
    await shell.writeFile(path, 'two');
    expect(await shell.readTail(path, 100)).toBe('two');
    expect((await shell.exec(`ls -A ~/${dir} | grep -c tmp || true`)).stdout.trim()).toBe('0');
  });

  test('a large file arrives intact', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + 3) & 0xff;
    await shell.writeFile(`~/${dir}/big.bin`, big);
    const { createHash } = await import('node:crypto');
    const want = createHash('sha256').update(big).digest('hex');
    expect((await shell.exec(`sha256sum ~/${dir}/big.bin`)).stdout.split(' ')[0]).toBe(want);
  });

  test('readTail returns the end of a file, whole UTF-8 characters, and "" for a missing file', async () => {
    await shell.writeFile(`~/${dir}/log.txt`, 'line1\nline2\nlast é line\n');
    expect(await shell.readTail(`~/${dir}/log.txt`, 8)).toBe('é line\n');
    expect(await shell.readTail(`~/${dir}/log.txt`, 7)).toBe(' line\n'); // cut inside é: the half character is dropped
    expect(await shell.readTail(`~/${dir}/log.txt`, 1000)).toBe('line1\nline2\nlast é line\n');
    expect(await shell.readTail(`~/${dir}/missing.txt`, 100)).toBe('');
  });

  test('exists() for files, directories and missing paths; absolute paths work too', async () => {
    const home = await shell.home();
    await shell.writeFile(`${home}/${dir}/x`, 'x');
    expect(await shell.exists(`~/${dir}/x`)).toBe(true);
    expect(await shell.exists(`${home}/${dir}`)).toBe(true);
    expect(await shell.exists(`~/${dir}/nope`)).toBe(false);
  });

  test('writing where the user may not fails with SSH_SFTP naming the path', async () => {
    await expect(shell.writeFile('/root/clustrix-forbidden/x', 'x')).rejects.toMatchObject({ code: 'SSH_SFTP', message: expect.stringContaining('/root/clustrix-forbidden') });
  });
});
