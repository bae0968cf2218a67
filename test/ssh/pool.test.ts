import { describe, expect, test } from 'vitest';
import { SshConnectionPool, SshShell } from '../../coordinator/backends/ssh/index.js';
import { SSH, sshAvailable, sshOptions } from './ssh-env.js';
import { waitUntil } from '../helpers/processes.js';

describe.skipIf(!sshAvailable)('connection pool: one connection per user@host:port', () => {
  test('leases share a connection, which closes with the last release', async () => {
    const pool = new SshConnectionPool();
    const [a, b] = await Promise.all([pool.acquire(sshOptions()), pool.acquire(sshOptions())]);
    expect(a.connection).toBe(b.connection);
    expect(pool.keys()).toEqual([`${SSH.user}@${SSH.host}:${SSH.port}`]);
    await a.release();
    await a.release(); // a second release of the same lease does not count
    expect(b.connection.closed).toBe(false);
    expect((await b.connection.exec('echo still')).stdout).toBe('still\n');
    await b.release();
    expect(b.connection.closed).toBe(true);
    expect(pool.keys()).toEqual([]);
  });

  test('exec, SFTP and shells all ride on the same connection', async () => {
    const pool = new SshConnectionPool();
    const s1 = await SshShell.connect({ ...sshOptions(), pool });
    const s2 = await SshShell.connect({ ...sshOptions(), pool });
    expect(s1.connection).toBe(s2.connection);
    // Every channel of one SSH connection is served by the same sshd session process.
    const sessionPid = async (shell: SshShell) => (await shell.exec('echo $PPID')).stdout.trim();
    const [p1, p2] = await Promise.all([sessionPid(s1), sessionPid(s2), s2.home(), s2.exists('/')]);
    expect(p1).toBe(p2);
    await s1.close();
    await s1.close(); // idempotent: does not release twice
    expect(s2.connection.closed).toBe(false);
    await s2.close();
    expect(s2.connection.closed).toBe(true);
  });

  test('a failed connect is not cached', async () => {
    const pool = new SshConnectionPool();
    await expect(pool.acquire(sshOptions({ host: 'nonexistent.invalid' }))).rejects.toMatchObject({ code: 'SSH_DNS' });
    expect(pool.keys()).toEqual([]);
  });

  test('a connection that dropped is replaced on the next acquire', async () => {
    const pool = new SshConnectionPool();
    const first = await pool.acquire(sshOptions());
    await first.connection.exec('kill -KILL $PPID').catch(() => undefined);
    await waitUntil(() => first.connection.closed, { what: 'the dropped connection to close' });
    const second = await pool.acquire(sshOptions());
    expect(second.connection).not.toBe(first.connection);
    expect((await second.connection.exec('echo new')).stdout).toBe('new\n');
    await first.release();
    expect(second.connection.closed).toBe(false);
    await second.release();
  });

  test('closeAll closes everything', async () => {
    const pool = new SshConnectionPool();
    const lease = await pool.acquire(sshOptions());
    await pool.closeAll();
    expect(lease.connection.closed).toBe(true);
  });
});
