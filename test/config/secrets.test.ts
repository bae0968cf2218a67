// Secrets have no place in a shared config file: each is refused with where it belongs instead.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../coordinator/errors/errors.js';
import { loadConfig } from '../../coordinator/config/index.js';
import { fixture, thrown, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();

const PRIVATE_KEY =
  'not allowed in a config file: a private key does not belong in a shared file; point identityFile at the key file ' +
  '(an encrypted key is unlocked by ssh-agent or the CLUSTRIX_SSH_PASSPHRASE environment variable)';
const PASSPHRASE =
  'not allowed in a config file: a secret does not belong in a shared file; set the CLUSTRIX_SSH_PASSPHRASE ' +
  'environment variable, or load the identityFile key into ssh-agent';

describe('secrets in the file', () => {
  it('token', () => {
    const file = fixture('token.yaml');
    const err = thrown(() => loadConfig(file));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toBe(
      `${file}:4:5: profiles.hpc.token: not allowed in a config file: a secret does not belong in a shared file; ` +
        'leave it out (each cluster makes its own random token), or pass token to Cluster.start() from the environment',
    );
  });

  it('ssh.privateKey and ssh.passphrase', () => {
    const file = fixture('ssh-secrets.yaml');
    expect(thrown(() => loadConfig(file)).message).toBe(
      `${file}:6:7: profiles.hpc.ssh.privateKey: ${PRIVATE_KEY}\n${file}:9:7: profiles.hpc.ssh.passphrase: ${PASSPHRASE}`,
    );
  });

  it('a passphrase in a hosts entry', () => {
    const file = join(tempDir({ 'c.yaml': 'profiles:\n  w:\n    hosts:\n      - { host: a, passphrase: x }\n' }), 'c.yaml');
    expect(thrown(() => loadConfig(file)).message).toBe(`${file}:4:20: profiles.w.hosts[0].passphrase: ${PASSPHRASE}`);
  });

  it('the message does not repeat the secret', () => {
    expect(thrown(() => loadConfig(fixture('ssh-secrets.yaml'))).message).not.toContain('hunter2');
    expect(thrown(() => loadConfig(fixture('token.yaml'))).message).not.toContain('0123456789abcdef');
  });

  it('secrets are not offered among the allowed keys', () => {
    const file = join(tempDir({ 'c.yaml': 'profiles:\n  a:\n    ssh: { host: h, pasphrase: x }\n' }), 'c.yaml');
    const message = thrown(() => loadConfig(file)).message;
    expect(message).toBe(
      `${file}:3:21: profiles.a.ssh.pasphrase: unknown key (allowed: host, port, user, identityFile, identitiesOnly, agent, proxyJump, ` +
        'knownHostsFile, hostKeyFingerprint, keepaliveIntervalMs, keepaliveCountMax, connectTimeoutMs, configFile)',
    );
  });
});
