import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SshConnection, SshError } from '../../coordinator/backends/ssh/index.js';
import { sshAvailable, sshOptions } from './ssh-env.js';
import { waitUntil } from '../helpers/processes.js';

describe.skipIf(!sshAvailable)('exec over SSH', () => {
  let conn: SshConnection;
  beforeAll(async () => {
    conn = await SshConnection.connect(sshOptions());
  });
  afterAll(async () => {
    await conn?.close();
  });

  test('stdout, stderr and exit codes; a non-zero exit does not reject', async () => {
    expect(await conn.exec('echo out; echo err >&2')).toEqual({ stdout: 'out\n', stderr: 'err\n', code: 0, signal: null });
    expect(await conn.exec('exit 3')).toEqual({ stdout: '', stderr: '', code: 3, signal: null });
    expect((await conn.exec('false')).code).toBe(1);
  });

  test('a command killed by a signal has code null and the signal name', async () => {
    expect(await conn.exec('kill -TERM $$')).toMatchObject({ code: null, signal: 'SIGTERM' });
  });

  test('stdin as a string or bytes, then EOF', async () => {
    expect((await conn.exec('tr a-z A-Z', { stdin: 'hello\n' })).stdout).toBe('HELLO\n');
    expect((await conn.exec('od -An -tx1', { stdin: new Uint8Array([0, 255, 7]) })).stdout.trim()).toBe('00 ff 07');
  });

  test('without stdin a command reading it sees EOF at once', async () => {
    expect(await conn.exec('cat; echo done')).toEqual({ stdout: 'done\n', stderr: '', code: 0, signal: null });
  });

  test('multi-byte output survives chunking', async () => {
    const { stdout } = await conn.exec("i=0; while [ $i -lt 20000 ]; do printf 'é'; i=$((i+1)); done");
    expect(stdout).toBe('é'.repeat(20000));
  });

  test('several commands at once share the connection', async () => {
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => conn.exec(`echo ${n}`)));
    expect(results.map((r) => r.stdout.trim())).toEqual(['1', '2', '3', '4', '5']);
  });

  test('a command past its timeout fails with SSH_TIMEOUT and is killed with its children', async () => {
    const marker = `${Math.floor(Math.random() * 1e6)}`;
    const started = Date.now();
    const err = await conn.exec(`sleep 41.${marker}; echo never`, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SshError);
    expect((err as SshError).code).toBe('SSH_TIMEOUT');
    expect((err as SshError).message).toContain('did not finish within 300 ms');
    expect(Date.now() - started).toBeLessThan(5000);
    // sshd delivers the signal to the command's process group: the compound command's sleep goes too.
    await waitUntil(async () => (await conn.exec(`pgrep -f 'slee[p] 41.${marker}' || true`)).stdout.trim() === '', {
      timeoutMs: 2_000,
      intervalMs: 100,
      what: 'the command\'s sleep to go',
    });
  });

  test('after close, exec fails with SSH_CLOSED', async () => {
    const c = await SshConnection.connect(sshOptions());
    await c.close();
    await c.close(); // idempotent
    expect(c.closed).toBe(true);
    await expect(c.exec('true')).rejects.toMatchObject({ code: 'SSH_CLOSED' });
  });

  test('a connection dropped by the server fails pending and later commands with SSH_CLOSED', async () => {
    const c = await SshConnection.connect(sshOptions());
    const closed = new Promise<SshError>((resolve) => c.onClose(resolve));
    // Kill this connection's own sshd session process (the parent of the login shell).
    const pending = c.exec('kill -KILL $PPID; sleep 5');
    await expect(pending).rejects.toMatchObject({ code: 'SSH_CLOSED' });
    expect((await closed).code).toBe('SSH_CLOSED');
    await expect(c.exec('true')).rejects.toMatchObject({ code: 'SSH_CLOSED' });
  });
});
