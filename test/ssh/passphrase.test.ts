import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PASSPHRASE_ENV, SshConnection, SshError } from '../../coordinator/backends/ssh/index.js';
import { connectError, hasCommand, makeKey, sshAvailable, sshOptions, tempDir } from './ssh-env.js';

const PASSPHRASE = 'correct horse battery staple';

describe.skipIf(!sshAvailable || !hasCommand('ssh-keygen'))('encrypted private keys', () => {
  const tmp = tempDir('passphrase');
  const comment = `clustrix-passphrase-test-${process.pid}-${Date.now()}`;
  let key: string;
  let admin: SshConnection;

  beforeAll(async () => {
    key = makeKey(tmp.dir, 'id_encrypted', PASSPHRASE, comment);
    admin = await SshConnection.connect(sshOptions());
    const pub = readFileSync(`${key}.pub`, 'utf8');
    const r = await admin.exec('cat >> ~/.ssh/authorized_keys', { stdin: pub });
    expect(r.code).toBe(0);
  });

  afterAll(async () => {
    // Remove exactly our line; keep the file's owner and mode.
    await admin?.exec(`grep -vF '${comment}' ~/.ssh/authorized_keys > ~/.ssh/authorized_keys.tmp; cat ~/.ssh/authorized_keys.tmp > ~/.ssh/authorized_keys; rm -f ~/.ssh/authorized_keys.tmp`);
    await admin?.close();
    tmp.cleanup();
  });

  function expectNoSecret(err: SshError, secret: string): void {
    const everything = [err.message, err.stack ?? '', err.hint ?? '', JSON.stringify(err), String((err.cause as Error | undefined)?.message ?? '')].join('\n');
    expect(everything).not.toContain(secret);
  }

  test('works with the passphrase option', async () => {
    const c = await SshConnection.connect(sshOptions({ identityFile: key, passphrase: PASSPHRASE }));
    expect((await c.exec('echo in')).stdout).toBe('in\n');
    await c.close();
  });

  test(`works with the passphrase in env ${PASSPHRASE_ENV}`, async () => {
    const saved = process.env[PASSPHRASE_ENV];
    process.env[PASSPHRASE_ENV] = PASSPHRASE;
    try {
      const c = await SshConnection.connect(sshOptions({ identityFile: key }));
      await c.close();
    } finally {
      if (saved === undefined) delete process.env[PASSPHRASE_ENV];
      else process.env[PASSPHRASE_ENV] = saved;
    }
  });

  test('without a passphrase: SSH_AUTH says the key is encrypted and where a passphrase goes', async () => {
    const err = await connectError(sshOptions({ identityFile: key }));
    expect(err.code).toBe('SSH_AUTH');
    expect(err.message).toContain(`${key} (encrypted; give its passphrase in the passphrase option or env ${PASSPHRASE_ENV}`);
  });

  test('a wrong passphrase: SSH_AUTH, and neither passphrase appears anywhere in the error', async () => {
    const wrong = 'not-the-passphrase-4242';
    const err = await connectError(sshOptions({ identityFile: key, passphrase: wrong }));
    expect(err.code).toBe('SSH_AUTH');
    expect(err.message).toContain(`${key} (the passphrase given does not decrypt it)`);
    expectNoSecret(err, wrong);
    expectNoSecret(err, PASSPHRASE);
  });
});
