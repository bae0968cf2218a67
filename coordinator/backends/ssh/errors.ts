import { ClustrixError } from '../../../protocol/errors.js';

/**
 * Every way an SSH operation fails, each with its own remedy:
 * - `SSH_DNS`              the host name does not resolve
 * - `SSH_REFUSED`          nothing listens on that port (or a bastion could not reach the target)
 * - `SSH_UNREACHABLE`      no route to the host or network
 * - `SSH_TIMEOUT`          no TCP connection or SSH handshake within the connect timeout; a command past its timeout
 * - `SSH_AUTH`             the server accepted none of the methods offered (the error names them)
 * - `SSH_HOST_KEY_UNKNOWN` the host's key is in no known_hosts file
 * - `SSH_HOST_KEY_CHANGED` known_hosts (or the pinned fingerprint) holds another key for the host
 * - `SSH_HOST_KEY_REVOKED` the key is marked `@revoked` in known_hosts
 * - `SSH_CLOSED`           the connection ended (or was closed) before or during an operation
 * - `SSH_EXEC`             the server refused to start a command
 * - `SSH_SFTP`             a file operation failed (permission, missing SFTP subsystem, ...)
 * - `SSH_FORWARD`          the server refused a port forward (AllowTcpForwarding, port in use)
 * - `SSH_CONFIG`           an option or ssh_config value is invalid
 */
export type SshErrorCode =
  | 'SSH_DNS'
  | 'SSH_REFUSED'
  | 'SSH_UNREACHABLE'
  | 'SSH_TIMEOUT'
  | 'SSH_AUTH'
  | 'SSH_HOST_KEY_UNKNOWN'
  | 'SSH_HOST_KEY_CHANGED'
  | 'SSH_HOST_KEY_REVOKED'
  | 'SSH_CLOSED'
  | 'SSH_EXEC'
  | 'SSH_SFTP'
  | 'SSH_FORWARD'
  | 'SSH_CONFIG';

export interface SshErrorDetails {
  /** `user@host:port` of the connection (the hop that failed, for a jump chain). */
  target: string;
  hint: string;
  cause?: unknown;
  /** SHA256 fingerprint (`SHA256:...`) of the key the server presented, for host key errors. */
  fingerprint?: string | undefined;
  /** Authentication methods offered, for SSH_AUTH (e.g. `publickey /home/me/.ssh/id_ed25519`). */
  authTried?: readonly string[] | undefined;
}

/**
 * A failure to reach, trust, authenticate to, or use an SSH server. Messages never contain secrets
 * (passphrases, key material): they are built only from host names, paths and fingerprints.
 */
export class SshError extends ClustrixError {
  // `declare` narrows the base field's type without a class field that would reset it to undefined.
  declare readonly code: SshErrorCode;
  readonly target: string;
  readonly fingerprint: string | undefined;
  readonly authTried: readonly string[];

  constructor(code: SshErrorCode, message: string, details: SshErrorDetails) {
    super(code, message, { hint: details.hint, cause: details.cause });
    this.name = 'SshError';
    this.target = details.target;
    this.fingerprint = details.fingerprint;
    this.authTried = details.authTried ?? [];
  }
}

/** Maps a socket-level error (from net.connect or a bastion's channel open failure) to a typed error. */
export function socketError(err: unknown, target: string, via: string | undefined): SshError {
  const code = (err as { code?: unknown }).code;
  const text = err instanceof Error ? err.message : String(err);
  const where = via ? ` (from bastion ${via})` : '';
  const host = target.replace(/^[^@]*@/, '');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME' || /name or service not known|name resolution|could not resolve|nodename nor servname|no address associated/i.test(text)) {
    return new SshError('SSH_DNS', `cannot resolve the host name of ${target}${where}: ${text}`, {
      target,
      cause: err,
      hint: 'check the host name (a typo, or a Host alias missing from ~/.ssh/config?), your DNS, or the VPN the site requires',
    });
  }
  if (code === 'ECONNREFUSED' || /refused/i.test(text)) {
    return new SshError('SSH_REFUSED', `connection refused by ${host}${where}: no SSH server listens there`, {
      target,
      cause: err,
      hint: 'check the port (Port in ~/.ssh/config, or the port option) and that sshd runs on that host',
    });
  }
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || /unreachable/i.test(text)) {
    return new SshError('SSH_UNREACHABLE', `no route to ${host}${where}: ${text}`, {
      target,
      cause: err,
      hint: 'the host is not reachable from here: connect the VPN, or reach it through a bastion with ProxyJump',
    });
  }
  if (code === 'ETIMEDOUT') return timeoutError(target, undefined, err);
  return new SshError('SSH_CLOSED', `connection to ${target}${where} failed: ${text}`, {
    target,
    cause: err,
    hint: 'check that the host and port are right and that an SSH server answers there (`ssh -v` shows the same path)',
  });
}

export function timeoutError(target: string, timeoutMs: number | undefined, cause?: unknown): SshError {
  const after = timeoutMs === undefined ? '' : ` within ${timeoutMs} ms`;
  return new SshError('SSH_TIMEOUT', `no SSH connection to ${target}${after}`, {
    target,
    cause,
    hint: 'the host may be down, firewalled (packets dropped), or slow to answer: check the host and port, the VPN, or raise connectTimeoutMs (ConnectTimeout in ~/.ssh/config)',
  });
}

export function closedError(target: string, what: string, cause?: unknown): SshError {
  return new SshError('SSH_CLOSED', `the SSH connection to ${target} is closed (${what})`, {
    target,
    cause,
    hint: 'the server or network dropped the connection, or it was closed by this program: open a new connection',
  });
}
