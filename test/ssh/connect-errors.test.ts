import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, test } from 'vitest';
import type { SshError } from '../../coordinator/backends/ssh/index.js';
import { connectError, hasCommand, makeKey, sshAvailable, sshOptions, tempDir } from './ssh-env.js';

async function failure(extra: Parameters<typeof sshOptions>[0]): Promise<SshError> {
  const err = await connectError(sshOptions(extra));
  expect(err.hint).toBeTruthy();
  return err;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
}

describe.skipIf(!sshAvailable)('connection failures are typed', () => {
  const tmp = tempDir('connerr');
  afterAll(() => tmp.cleanup());

  test.skipIf(!hasCommand('ssh-keygen'))('a key the server does not know: SSH_AUTH, naming what was tried', async () => {
    const wrong = makeKey(tmp.dir, 'wrong_key');
    const err = await failure({ identityFile: wrong });
    expect(err.code).toBe('SSH_AUTH');
    expect(err.authTried).toEqual([`publickey ${wrong}`]);
    expect(err.message).toContain(wrong);
    expect(err.message).toContain('authorized_keys');
  });

  test('a missing key file and a missing agent socket are reported, not fatal', async () => {
    const err = await failure({ identityFile: '/nonexistent/key', agent: '/nonexistent/agent.sock' });
    expect(err.code).toBe('SSH_AUTH');
    expect(err.message).toContain('/nonexistent/key (ENOENT)');
    expect(err.message).toContain('agent /nonexistent/agent.sock (no such socket)');
  });

  test('nothing listening: SSH_REFUSED', async () => {
    const server = createServer();
    const port = await listen(server);
    await new Promise((r) => server.close(r));
    const err = await failure({ port });
    expect(err.code).toBe('SSH_REFUSED');
    expect(err.message).toContain(`127.0.0.1:${port}`);
  });

  test('a host name that does not resolve: SSH_DNS', async () => {
    const err = await failure({ host: 'nonexistent.invalid' });
    expect(err.code).toBe('SSH_DNS');
    expect(err.message).toContain('nonexistent.invalid');
  });

  test('a server that never speaks SSH: SSH_TIMEOUT within connectTimeoutMs', async () => {
    const sockets: import('node:net').Socket[] = [];
    const server = createServer((s) => sockets.push(s));
    const port = await listen(server);
    try {
      const started = Date.now();
      const err = await failure({ port, connectTimeoutMs: 400 });
      expect(err.code).toBe('SSH_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    }
  });

  test('a server that hangs up at once: SSH_CLOSED', async () => {
    const server = createServer((s) => s.destroy());
    const port = await listen(server);
    try {
      const err = await failure({ port });
      expect(err.code).toBe('SSH_CLOSED');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
