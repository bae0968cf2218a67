/**
 * Where the integration tests find the test sshd (test/infra/sshd-up.sh), and options that reach it
 * without reading the developer's own ~/.ssh/config or ssh-agent.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SshConnection, SshError, type SshOptions } from '../../coordinator/backends/ssh/index.js';

export const SSH = {
  host: process.env.CLUSTRIX_TEST_SSH_HOST ?? '127.0.0.1',
  port: Number(process.env.CLUSTRIX_TEST_SSH_PORT ?? 2222),
  user: process.env.CLUSTRIX_TEST_SSH_USER ?? 'testuser',
  key: process.env.CLUSTRIX_TEST_SSH_KEY ?? '/tmp/clustrix-infra/sshd/id_ed25519',
  knownHosts: process.env.CLUSTRIX_TEST_SSH_KNOWN_HOSTS ?? '/tmp/clustrix-infra/sshd/known_hosts',
};

/** Run when CI says the infra is up, or when a developer has started it. */
export const sshAvailable = Boolean(process.env.CLUSTRIX_TEST_CLUSTER) || existsSync(SSH.key);

export function sshOptions(extra: Partial<SshOptions> = {}): SshOptions {
  return {
    host: SSH.host,
    port: SSH.port,
    user: SSH.user,
    identityFile: SSH.key,
    knownHostsFile: SSH.knownHosts,
    configFile: false,
    agent: false,
    connectTimeoutMs: 10_000,
    ...extra,
  };
}

export function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** A fresh local temp dir and its cleanup. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `clustrix-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Makes an ed25519 key pair with ssh-keygen; returns the private key path. */
export function makeKey(dir: string, name: string, passphrase = '', comment = name): string {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', comment, '-f', file], { stdio: 'ignore' });
  return file;
}

/** The test server's host key line(s) from the known_hosts the infra wrote. */
export function serverKnownHostsLine(): string {
  const line = readFileSync(SSH.knownHosts, 'utf8').split('\n').find((l) => l.trim() !== '');
  if (!line) throw new Error(`no entry in ${SSH.knownHosts}`);
  return line.trim();
}

/** A unique remote scratch name under the test user's home. */
export function remoteScratch(topic: string): string {
  return `clustrix-test-${topic}-${process.pid}-${Date.now().toString(36)}`;
}

/** Connects with these options expecting a typed failure; a connection that succeeds fails the test. */
export async function connectError(options: SshOptions): Promise<SshError> {
  const err = await SshConnection.connect(options).then(
    async (c) => {
      await c.close();
      throw new Error(`connected to ${c.description}, but should have failed`);
    },
    (e: unknown) => e,
  );
  if (!(err instanceof SshError)) throw err;
  return err;
}
