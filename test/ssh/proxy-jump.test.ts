import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { SshConnection, SshConnectionPool } from '../../coordinator/backends/ssh/index.js';
import { connectError, SSH, sshAvailable, sshOptions, tempDir } from './ssh-env.js';
import { waitUntil } from '../helpers/processes.js';

// The test sshd is its own bastion: jump to it, then forward from it to itself.
const bastion = `${SSH.user}@${SSH.host}:${SSH.port}`;

describe.skipIf(!sshAvailable)('ProxyJump through a bastion', () => {
  const tmp = tempDir('jump');
  afterAll(() => tmp.cleanup());

  test('exec and SFTP through the bastion', async () => {
    const c = await SshConnection.connect(sshOptions({ proxyJump: bastion }));
    try {
      expect((await c.exec('echo through')).stdout).toBe('through\n');
      const sftp = await c.sftp();
      expect(typeof sftp.readdir).toBe('function');
    } finally {
      await c.close();
    }
  });

  test('two hops', async () => {
    const c = await SshConnection.connect(sshOptions({ proxyJump: `${bastion},${bastion}` }));
    expect((await c.exec('echo two')).stdout).toBe('two\n');
    await c.close();
  });

  test('a pool shares the bastion connection and closes it with the last target', async () => {
    const pool = new SshConnectionPool();
    const a = await pool.acquire(sshOptions({ proxyJump: bastion }));
    const b = await pool.acquire(sshOptions({ proxyJump: bastion, user: SSH.user }));
    expect(a.connection).toBe(b.connection);
    const keys = pool.keys();
    expect(keys).toContain(`${SSH.user}@${SSH.host}:${SSH.port}`); // the bastion
    expect(keys).toContain(`${SSH.user}@${SSH.host}:${SSH.port} via ${SSH.user}@${SSH.host}:${SSH.port}`);
    await a.release();
    expect(a.connection.closed).toBe(false);
    await b.release();
    expect(a.connection.closed).toBe(true);
    await waitUntil(() => pool.keys().length === 0, { what: 'the pool to forget both connections' });
  });

  test('a target the bastion cannot reach: SSH_REFUSED, naming the bastion', async () => {
    const err = await connectError(sshOptions({ proxyJump: bastion, port: 1 }));
    expect(err.code).toBe('SSH_REFUSED');
    expect(err.message).toContain(`from bastion ${bastion}`);
  });

  test('a target name the bastion cannot resolve: SSH_DNS', async () => {
    const err = await connectError(sshOptions({ proxyJump: bastion, host: 'nonexistent.invalid' }));
    expect(err.code).toBe('SSH_DNS');
  });

  test('host aliases, users, keys, known_hosts and the jump all from an ssh config file', async () => {
    const config = join(tmp.dir, 'config');
    writeFileSync(config, `
Host cluster-login
  HostName ${SSH.host}
  ProxyJump cluster-bastion
Host cluster-bastion
  HostName ${SSH.host}
Host cluster-*
  Port ${SSH.port}
  User ${SSH.user}
  IdentityFile ${SSH.key}
  IdentitiesOnly yes
  UserKnownHostsFile ${SSH.knownHosts}
  ServerAliveInterval 5
`);
    const c = await SshConnection.connect({ host: 'cluster-login', configFile: config, agent: false });
    try {
      expect(c.description).toBe(`${SSH.user}@${SSH.host}:${SSH.port}`);
      expect(c.target).toMatchObject({ alias: 'cluster-login', keepaliveIntervalMs: 5000, proxyJump: [{ host: 'cluster-bastion' }] });
      expect((await c.exec('whoami')).stdout.trim()).toBe(SSH.user);
    } finally {
      await c.close();
    }
  });
});
