import { execFileSync } from 'node:child_process';
import { createHmac, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { checkHostKey, fingerprintSha256, hashHostName, knownHostsName, parseKnownHosts } from '../../coordinator/backends/ssh/index.js';
import { hostKeyRefusal } from '../../coordinator/backends/ssh/known-hosts.js';
import { hasCommand, tempDir } from './ssh-env.js';

/** An ssh-ed25519 public key blob: string "ssh-ed25519", string <32 key bytes>. */
function ed25519Blob(): Buffer {
  const jwk = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
  const raw = Buffer.from(jwk.x ?? '', 'base64url');
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([str(Buffer.from('ssh-ed25519')), str(raw)]);
}

/** A blob of another type (the checker only compares bytes and the type name). */
function fakeRsaBlob(): Buffer {
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return Buffer.concat([str(Buffer.from('ssh-rsa')), str(Buffer.from([1, 0, 1])), str(randomBytes(64))]);
}

const line = (hosts: string, blob: Buffer) => `${hosts} ${typeName(blob)} ${blob.toString('base64')}`;
const typeName = (blob: Buffer) => blob.subarray(4, 4 + blob.readUInt32BE(0)).toString();

describe('known_hosts matching', () => {
  const key = ed25519Blob();
  const other = ed25519Blob();

  test('lookup names: bare host on port 22, [host]:port otherwise', () => {
    expect(knownHostsName('login.example.org', 22)).toBe('login.example.org');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
  });

  test('plain entry, [host]:port entry and comma lists', () => {
    const entries = parseKnownHosts([line('login.example.org,10.0.0.5', key), line('[127.0.0.1]:2222', key)].join('\n'));
    expect(checkHostKey(entries, 'login.example.org', 22, key).outcome).toBe('match');
    expect(checkHostKey(entries, '10.0.0.5', 22, key).outcome).toBe('match');
    expect(checkHostKey(entries, '127.0.0.1', 2222, key).outcome).toBe('match');
    // The port matters: the same host on another port is a different entry.
    expect(checkHostKey(entries, '127.0.0.1', 22, key).outcome).toBe('unknown');
    expect(checkHostKey(entries, 'login.example.org', 2222, key).outcome).toBe('unknown');
  });

  test('wildcards and negation in entries', () => {
    const entries = parseKnownHosts(line('*.hpc.example.org,!evil.hpc.example.org', key));
    expect(checkHostKey(entries, 'login1.hpc.example.org', 22, key).outcome).toBe('match');
    expect(checkHostKey(entries, 'evil.hpc.example.org', 22, key).outcome).toBe('unknown');
  });

  test('hashed entries (|1|salt|HMAC-SHA1(salt, name)) as HashKnownHosts writes them', () => {
    const salt = randomBytes(20);
    const name = '[127.0.0.1]:2222';
    const hash = createHmac('sha1', salt).update(name).digest('base64');
    const hashed = `|1|${salt.toString('base64')}|${hash}`;
    expect(hashHostName(name, salt)).toBe(hashed);
    const entries = parseKnownHosts(line(hashed, key));
    expect(checkHostKey(entries, '127.0.0.1', 2222, key).outcome).toBe('match');
    expect(checkHostKey(entries, '127.0.0.1', 2223, key).outcome).toBe('unknown');
    expect(checkHostKey(entries, '127.0.0.1', 2222, other).outcome).toBe('changed');
  });

  test.skipIf(!hasCommand('ssh-keygen'))('entries hashed by ssh-keygen -H match', () => {
    const { dir, cleanup } = tempDir('kh');
    try {
      const file = join(dir, 'known_hosts');
      writeFileSync(file, `${line('[login.example.org]:2200', key)}\n${line('plain.example.org', other)}\n`);
      execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
      const text = readFileSync(file, 'utf8');
      expect(text).not.toContain('example.org');
      const entries = parseKnownHosts(text, file);
      expect(checkHostKey(entries, 'login.example.org', 2200, key).outcome).toBe('match');
      expect(checkHostKey(entries, 'plain.example.org', 22, other).outcome).toBe('match');
    } finally {
      cleanup();
    }
  });

  test('a different key of the same type is "changed" and names the line', () => {
    const entries = parseKnownHosts(`# comment\n\n${line('host.example.org', other)}\n`, '/kh');
    const check = checkHostKey(entries, 'host.example.org', 22, key);
    expect(check).toMatchObject({ outcome: 'changed', entry: { file: '/kh', line: 3 } });
  });

  test('keys of other types only: unknown, saying which types are known', () => {
    const entries = parseKnownHosts(line('host.example.org', fakeRsaBlob()));
    expect(checkHostKey(entries, 'host.example.org', 22, key)).toEqual({ outcome: 'unknown', otherKeyTypes: ['ssh-rsa'], certAuthority: false });
  });

  test('@revoked refuses the key even when another line vouches for it', () => {
    const entries = parseKnownHosts(`${line('host.example.org', key)}\n@revoked * ${typeName(key)} ${key.toString('base64')}\n`);
    expect(checkHostKey(entries, 'host.example.org', 22, key).outcome).toBe('revoked');
  });

  test('@cert-authority lines never vouch for a plain key', () => {
    const entries = parseKnownHosts(`@cert-authority *.example.org ${typeName(key)} ${key.toString('base64')}\n`);
    expect(checkHostKey(entries, 'host.example.org', 22, key)).toEqual({ outcome: 'unknown', otherKeyTypes: [], certAuthority: true });
  });

  test('malformed lines are skipped', () => {
    const entries = parseKnownHosts(`garbage\nhost ssh-ed25519 !!!notbase64\n@weird host ssh-ed25519 ${key.toString('base64')}\n${line('ok', key)}\n`);
    expect(entries.map((e) => e.hosts)).toEqual(['ok']);
  });
});

describe('fingerprints and refusals', () => {
  const key = ed25519Blob();

  test('SHA256 fingerprint in OpenSSH form: base64 without padding', () => {
    const fp = fingerprintSha256(key);
    expect(fp).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
  });

  test.skipIf(!hasCommand('ssh-keygen'))('the fingerprint equals ssh-keygen -lf', () => {
    const { dir, cleanup } = tempDir('fp');
    try {
      const file = join(dir, 'key.pub');
      writeFileSync(file, `${typeName(key)} ${key.toString('base64')} test\n`);
      const out = execFileSync('ssh-keygen', ['-lf', file], { encoding: 'utf8' });
      expect(out.split(' ')[1]).toBe(fingerprintSha256(key));
    } finally {
      cleanup();
    }
  });

  test('an unknown key is refused with its fingerprint and how to trust it', () => {
    const err = hostKeyRefusal({ outcome: 'unknown', otherKeyTypes: [], certAuthority: false }, {
      target: 'u@127.0.0.1:2222', host: '127.0.0.1', port: 2222, key, files: ['/tmp/kh'], strictHostKeyChecking: 'no',
    });
    expect(err?.code).toBe('SSH_HOST_KEY_UNKNOWN');
    expect(err?.fingerprint).toBe(fingerprintSha256(key));
    expect(err?.message).toContain(fingerprintSha256(key));
    expect(err?.message).toContain('ssh-keyscan -p 2222 -t ed25519 127.0.0.1 >> /tmp/kh');
    expect(err?.message).toContain('StrictHostKeyChecking no in your ssh config does not apply');
  });

  test('a changed key is refused naming both fingerprints and the line to remove', () => {
    const old = ed25519Blob();
    const [entry] = parseKnownHosts(line('login.example.org', old), '/tmp/kh');
    const err = hostKeyRefusal({ outcome: 'changed', entry: entry! }, { target: 'u@login.example.org:22', host: 'login.example.org', port: 22, key, files: ['/tmp/kh'] });
    expect(err?.code).toBe('SSH_HOST_KEY_CHANGED');
    expect(err?.message).toContain(fingerprintSha256(key));
    expect(err?.message).toContain(fingerprintSha256(old));
    expect(err?.message).toContain("ssh-keygen -R 'login.example.org' -f /tmp/kh");
  });
});
