import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SshConnection } from '../../coordinator/backends/ssh/index.js';
import { connectError, hasCommand, makeKey, SSH, sshAvailable, sshOptions, tempDir } from './ssh-env.js';
import { waitUntil } from '../helpers/processes.js';

describe.skipIf(!sshAvailable || !hasCommand('ssh-agent') || !hasCommand('ssh-add'))('ssh-agent authentication', () => {
  const tmp = tempDir('agent');
  const sock = join(tmp.dir, 'agent.sock');
  let agent: ChildProcess;

  beforeAll(async () => {
    // Our own agent in the foreground (-D), so the test owns and ends exactly this process.
    agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    await waitUntil(() => existsSync(sock), { timeoutMs: 2_500, what: 'ssh-agent to create its socket' });
    execFileSync('ssh-add', ['-q', SSH.key], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
  });

  afterAll(() => {
    agent?.kill();
    tmp.cleanup();
  });

  test('the agent alone authenticates (no key files)', async () => {
    const c = await SshConnection.connect(sshOptions({ identityFile: [], agent: sock }));
    expect((await c.exec('echo agent')).stdout).toBe('agent\n');
    await c.close();
  });

  test('SSH_AUTH_SOCK is the default agent', async () => {
    const saved = process.env.SSH_AUTH_SOCK;
    process.env.SSH_AUTH_SOCK = sock;
    try {
      const options = sshOptions({ identityFile: [] });
      delete options.agent;
      const c = await SshConnection.connect(options);
      await c.close();
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
    }
  });

  test('identitiesOnly offers only agent keys that match the identity files', async () => {
    const other = makeKey(tmp.dir, 'unrelated');
    const err = await connectError(sshOptions({ identityFile: other, agent: sock, identitiesOnly: true }));
    expect(err.code).toBe('SSH_AUTH');
    expect(err.authTried).toEqual([`agent ${sock} (keys matching the identity files only)`, `publickey ${other}`]);
    // With the matching identity named (its .pub is enough), the agent's key is offered again.
    const c = await SshConnection.connect(sshOptions({ identityFile: `${SSH.key}.pub`, agent: sock, identitiesOnly: true }));
    await c.close();
  });
});
