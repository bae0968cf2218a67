import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ensureCached, SshConnection, SshShell } from '../../coordinator/backends/ssh/index.js';
import { remoteScratch, sshAvailable, sshOptions, tempDir } from './ssh-env.js';

describe.skipIf(!sshAvailable)('content-addressed remote cache', () => {
  let conn: SshConnection;
  const root = remoteScratch('cache');
  const cacheDir = `~/${root}/cache`;
  beforeAll(async () => {
    conn = await SshConnection.connect(sshOptions());
  });
  afterAll(async () => {
    await conn?.exec(`rm -rf ~/${root}`);
    await conn?.close();
  });

  test('uploads to <cacheDir>/<sha256>/<name> once; the second call does not touch the file', async () => {
    const bytes = randomBytes(100_000);
    const hash = createHash('sha256').update(bytes).digest('hex');
    const first = await ensureCached(conn, bytes, { cacheDir, name: 'agent.mjs' });
    const home = (await conn.exec('printf %s "$HOME"')).stdout;
    expect(first).toEqual({ path: `${home}/${root}/cache/${hash}/agent.mjs`, hash, size: bytes.length, uploaded: true });
    const mtime1 = (await conn.exec(`stat -c %Y.%i ${first.path}`)).stdout;
    await new Promise((r) => setTimeout(r, 1100)); // mtime has one-second resolution on some file systems

    const second = await ensureCached(conn, bytes, { cacheDir, name: 'agent.mjs' });
    expect(second).toEqual({ ...first, uploaded: false });
    expect((await conn.exec(`stat -c %Y.%i ${first.path}`)).stdout).toBe(mtime1);
    expect((await conn.exec(`sha256sum ${first.path}`)).stdout.split(' ')[0]).toBe(hash);
  });

  test('a local file path is read and keeps its name; a shell works as well as a connection', async () => {
    const { dir, cleanup } = tempDir('cache');
    try {
      const file = join(dir, 'tasks.bundle.js');
      writeFileSync(file, `export const n = ${Math.random()};\n`);
      const shell = new SshShell(conn);
      const cached = await ensureCached(shell, file, { cacheDir });
      expect(cached.uploaded).toBe(true);
      expect(cached.path.endsWith(`/${cached.hash}/tasks.bundle.js`)).toBe(true);
      expect(await shell.exists(cached.path)).toBe(true);
    } finally {
      cleanup();
    }
  });

  test('the default cache dir is ~/.clustrix/cache', async () => {
    const bytes = Buffer.from(`clustrix-cache-default-test ${process.pid} ${Date.now()}`);
    const cached = await ensureCached(conn, bytes, { name: 'probe.txt' });
    try {
      const home = (await conn.exec('printf %s "$HOME"')).stdout;
      expect(cached.path).toBe(`${home}/.clustrix/cache/${cached.hash}/probe.txt`);
    } finally {
      await conn.exec(`rm -rf ${posixDir(cached.path)}`);
    }
  });

  test('concurrent uploaders of the same content both succeed and leave one whole file, no temp files', async () => {
    const other = await SshConnection.connect(sshOptions());
    try {
      const bytes = randomBytes(2 * 1024 * 1024);
      const [a, b] = await Promise.all([
        ensureCached(conn, bytes, { cacheDir, name: 'race.bin' }),
        ensureCached(other, bytes, { cacheDir, name: 'race.bin' }),
      ]);
      expect(a.path).toBe(b.path);
      expect((await conn.exec(`sha256sum ${a.path}`)).stdout.split(' ')[0]).toBe(a.hash);
      expect((await conn.exec(`ls -A ${posixDir(a.path)}`)).stdout).toBe('race.bin\n');
    } finally {
      await other.close();
    }
  });

  test('a truncated cached file is replaced', async () => {
    const bytes = randomBytes(5000);
    const first = await ensureCached(conn, bytes, { cacheDir, name: 'x.bin' });
    await conn.exec(`truncate -s 10 ${first.path}`);
    const again = await ensureCached(conn, bytes, { cacheDir, name: 'x.bin' });
    expect(again.uploaded).toBe(true);
    expect((await conn.exec(`stat -c %s ${first.path}`)).stdout.trim()).toBe('5000');
  });

  test('a name with a slash is refused', async () => {
    await expect(ensureCached(conn, Buffer.from('x'), { cacheDir, name: '../evil' })).rejects.toMatchObject({ code: 'SSH_CONFIG' });
  });
});

function posixDir(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}
