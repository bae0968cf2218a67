import { describe, expect, test } from 'vitest';
import { SshConnection, type SshError } from '../../coordinator/backends/ssh/index.js';
import { sshAvailable, sshOptions } from './ssh-env.js';

describe.skipIf(!sshAvailable)('keepalive (ServerAliveInterval)', () => {
  test('a server that stops answering is detected and the connection closes with SSH_CLOSED', async () => {
    const conn = await SshConnection.connect(sshOptions({ keepaliveIntervalMs: 200, keepaliveCountMax: 2 }));
    const helper = await SshConnection.connect(sshOptions());
    try {
      // This connection's sshd session process is the parent of its login shell.
      const pid = (await conn.exec('echo $PPID')).stdout.trim();
      const closed = new Promise<SshError>((resolve) => conn.onClose(resolve));
      await helper.exec(`kill -STOP ${pid}`);
      const started = Date.now();
      const err = await closed;
      expect(Date.now() - started).toBeLessThan(5000);
      expect(err.code).toBe('SSH_CLOSED');
      expect(String((err.cause as Error | undefined)?.message)).toMatch(/keepalive/i);
      await helper.exec(`kill -CONT ${pid}; kill -TERM ${pid}`);
    } finally {
      await conn.close();
      await helper.close();
    }
  });
});
