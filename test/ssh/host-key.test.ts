import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { fingerprintSha256, hashHostName, knownHostsName, SshConnection, type SshError } from '../../coordinator/backends/ssh/index.js';
import { connectError, serverKnownHostsLine, SSH, sshAvailable, sshOptions, tempDir } from './ssh-env.js';

describe.skipIf(!sshAvailable)('host key verification against the real sshd', () => {
  const tmp = tempDir('hostkey');
  afterAll(() => tmp.cleanup());
  const knownHosts = (name: string, text: string) => {
    const file = join(tmp.dir, name);
    writeFileSync(file, text);
    return file;
  };
  // The server's real key, from the known_hosts the infra wrote.
  const serverLine = () => serverKnownHostsLine().split(/\s+/);
  const serverFingerprint = () => fingerprintSha256(Buffer.from(serverLine()[2] ?? '', 'base64'));

  const refusal = (extra: Parameters<typeof sshOptions>[0]): Promise<SshError> => connectError(sshOptions(extra));

  test('an unknown host key is refused with its SHA256 fingerprint and how to trust it', async () => {
    const err = await refusal({ knownHostsFile: knownHosts('empty', '') });
    expect(err.code).toBe('SSH_HOST_KEY_UNKNOWN');
    expect(err.fingerprint).toBe(serverFingerprint());
    expect(err.message).toContain(serverFingerprint());
    expect(err.message).toContain(`ssh-keyscan -p ${SSH.port} -t ed25519 ${SSH.host} >> ${join(tmp.dir, 'empty')}`);
    expect(err.message).toContain('hostKeyFingerprint');
  });

  test('a changed host key is refused, naming both keys', async () => {
    const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    const raw = Buffer.from(jwk.x ?? '', 'base64url');
    const blob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), raw]);
    const file = knownHosts('changed', `${knownHostsName(SSH.host, SSH.port)} ssh-ed25519 ${blob.toString('base64')}\n`);
    const err = await refusal({ knownHostsFile: file });
    expect(err.code).toBe('SSH_HOST_KEY_CHANGED');
    expect(err.message).toContain(serverFingerprint());
    expect(err.message).toContain(fingerprintSha256(blob));
    expect(err.message).toContain(`${file}:1`);
  });

  test('a hashed known_hosts entry is accepted', async () => {
    const [, type, key] = serverLine();
    const file = knownHosts('hashed', `${hashHostName(knownHostsName(SSH.host, SSH.port))} ${type} ${key}\n`);
    const c = await SshConnection.connect(sshOptions({ knownHostsFile: file }));
    expect((await c.exec('echo ok')).stdout).toBe('ok\n');
    await c.close();
  });

  test('a pinned fingerprint replaces known_hosts; a wrong pin is refused', async () => {
    const c = await SshConnection.connect(sshOptions({ knownHostsFile: knownHosts('empty2', ''), hostKeyFingerprint: serverFingerprint() }));
    await c.close();
    const wrong = `SHA256:${'A'.repeat(43)}`;
    const err = await refusal({ hostKeyFingerprint: wrong });
    expect(err.code).toBe('SSH_HOST_KEY_CHANGED');
    expect(err.message).toContain(wrong);
    expect(err.message).toContain(serverFingerprint());
  });

  test('a revoked key is refused even though known_hosts also lists it', async () => {
    const [, type, key] = serverLine();
    const file = knownHosts('revoked', `${serverKnownHostsLine()}\n@revoked * ${type} ${key}\n`);
    const err = await refusal({ knownHostsFile: file });
    expect(err.code).toBe('SSH_HOST_KEY_REVOKED');
  });
});
