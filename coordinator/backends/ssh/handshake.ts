/**
 * Getting from a socket to an authenticated ssh2 Client, with each way of failing mapped to its
 * SshError: the TCP connect (DNS, refused, timeout), host key verification (known_hosts or a pinned
 * fingerprint), and authentication (naming every method tried and every key skipped).
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { AuthPlan } from './auth.js';
import { socketError, SshError, timeoutError } from './errors.js';
import { checkHostKey, fingerprintMatches, hostKeyRefusal, pinnedKeyRefusal, type KnownHostsEntry } from './known-hosts.js';
import type { ResolvedSshTarget } from './options.js';

export function openSocket(target: ResolvedSshTarget, description: string): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const sock = netConnect({ host: target.host, port: target.port });
    const timer = target.connectTimeoutMs > 0
      ? setTimeout(() => {
          sock.destroy();
          reject(timeoutError(description, target.connectTimeoutMs));
        }, target.connectTimeoutMs)
      : undefined;
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.setNoDelay(true);
      resolve(sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(socketError(err, description, undefined));
    });
  });
}

export async function handshake(
  target: ResolvedSshTarget,
  description: string,
  sock: Duplex,
  auth: AuthPlan,
  knownHosts: readonly KnownHostsEntry[],
): Promise<ssh2.Client> {
  const client = new ssh2.Client();
  let refusal: SshError | undefined;
  const verify = (key: Buffer): boolean => {
    const ctx = { target: description, host: target.host, port: target.port, key, files: target.knownHostsFiles, strictHostKeyChecking: target.strictHostKeyChecking };
    if (target.hostKeyFingerprint) {
      if (!fingerprintMatches(target.hostKeyFingerprint, key)) refusal = pinnedKeyRefusal(target.hostKeyFingerprint, ctx);
    } else {
      refusal = hostKeyRefusal(checkHostKey(knownHosts, target.host, target.port, key), ctx);
    }
    return refusal === undefined;
  };
  const notes: string[] = [];

  return new Promise<ssh2.Client>((resolve, reject) => {
    let settled = false;
    const detach = (): void => {
      client.off('ready', onReady).off('error', onError).off('close', onClose);
    };
    const fail = (err: SshError): void => {
      if (settled) return;
      settled = true;
      detach();
      client.on('error', () => undefined); // late errors from a failed handshake have nowhere to go
      client.end();
      reject(err);
    };
    const onReady = (): void => {
      if (settled) return;
      settled = true;
      detach();
      resolve(client);
    };
    const onError = (err: Error & { level?: string }): void => {
      if (refusal) return fail(refusal);
      if (err.level === 'agent' || (err.level === 'client-authentication' && !/All configured authentication methods failed/.test(err.message))) {
        notes.push(err.message); // one agent or key failed; ssh2 goes on with the next method
        return;
      }
      if (err.level === 'client-authentication' || /too many authentication failures/i.test(err.message)) return fail(authError(target, description, auth, notes, err));
      if (err.level === 'client-timeout') return fail(timeoutError(description, target.connectTimeoutMs, err));
      if (err.level === 'client-socket') return fail(socketError(err, description, undefined));
      fail(new SshError('SSH_CLOSED', `SSH handshake with ${description} failed: ${err.message}`, {
        target: description,
        cause: err,
        hint: 'is an SSH server listening there? The server may also limit unauthenticated connections (MaxStartups) or this user (AllowUsers)',
      }));
    };
    const onClose = (): void => {
      fail(refusal ?? new SshError('SSH_CLOSED', `${description} closed the connection during the SSH handshake`, {
        target: description,
        hint: 'the server may refuse this client address or user (AllowUsers, DenyUsers, tcp wrappers) or be overloaded (MaxStartups); its log says why',
      }));
    };
    client.on('ready', onReady).on('error', onError).on('close', onClose);
    try {
      client.connect({
        sock,
        username: target.user,
        hostVerifier: verify,
        authHandler: auth.methods,
        readyTimeout: target.connectTimeoutMs,
        keepaliveInterval: target.keepaliveIntervalMs,
        keepaliveCountMax: target.keepaliveCountMax,
      });
    } catch (err) {
      fail(new SshError('SSH_CONFIG', `cannot start SSH to ${description}: ${(err as Error).message}`, { target: description, cause: err, hint: 'check the connection options' }));
    }
  });
}

function authError(target: ResolvedSshTarget, description: string, auth: AuthPlan, notes: string[], cause: Error): SshError {
  const tried = auth.tried.length > 0 ? `tried ${auth.tried.join(', ')}` : 'no method to offer (no usable key file, no ssh-agent)';
  const skipped = auth.skipped.length > 0 ? `\n  skipped: ${auth.skipped.join('; ')}` : '';
  const extra = notes.length > 0 ? `\n  notes: ${notes.join('; ')}` : '';
  const tooMany = /too many/i.test(cause.message) ? ' (the server stopped after too many attempts: set identitiesOnly with the right identityFile)' : '';
  return new SshError('SSH_AUTH', `${description} accepted none of the authentication methods${tooMany}: ${tried}${skipped}${extra}`, {
    target: description,
    cause,
    authTried: auth.tried,
    hint: `make sure your public key is in ~${target.user}/.ssh/authorized_keys on ${target.host} (e.g. \`ssh-copy-id -p ${target.port} ${target.user}@${target.host}\`), ` +
      'that the user name is right (user option, or User in ~/.ssh/config), and name the key with identityFile (IdentityFile) if it is not a default one',
  });
}
