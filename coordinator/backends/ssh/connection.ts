/**
 * One authenticated SSH connection (ssh2 `Client`), shared by exec, SFTP and port forwarding, so a
 * login node sees one login per coordinator rather than one per job submission.
 *
 * We open the TCP socket (or the bastion's forwarded channel) ourselves and hand it to ssh2 as
 * `sock`: that way DNS, refused and timed-out connects are told apart before SSH starts, and a
 * ProxyJump hop is just another way to get a socket. Every failure becomes an `SshError`.
 *
 * Lifecycle: 'ready' once connect() resolves, then 'closed' (by close(), the server, or missed
 * keepalives); a closed connection is never reused, and its pending operations fail with SSH_CLOSED.
 */
import type { Duplex } from 'node:stream';
import type ssh2 from 'ssh2';
import type { ClientChannel, SFTPWrapper, TcpConnectionDetails, AcceptConnection, RejectConnection } from 'ssh2';
import type { ExecOptions, ExecResult } from '../launchers/remote-shell.js';
import { planAuth } from './auth.js';
import { closedError, socketError, SshError } from './errors.js';
import { handshake, openSocket } from './handshake.js';
import { loadKnownHosts } from './known-hosts.js';
import { describeTarget, resolveSshTarget, type ResolvedSshTarget, type SshOptions } from './options.js';
import { showOnly } from '../../util/show-only.js';

/** Where bastion connections come from: a pool shares them between targets; by default each target owns its own. */
export interface HopSource {
  acquire(options: SshOptions): Promise<{ connection: SshConnection; release(): Promise<void> }>;
}

export interface ConnectOptions extends SshOptions {
  /** Source of ProxyJump hop connections. @default a private connection per hop, closed with this one */
  hops?: HopSource;
}

/**
 * What a command on the server came to. `code` is its exit status, or null when it was killed by
 * `signal` (e.g. `SIGTERM`). Both are null only when the server closed the channel without saying how
 * the command ended, which RFC 4254 allows (OpenSSH always says; it sends exit-status before the close).
 */
export interface SshExecResult extends ExecResult {
  signal: string | null;
}

export type ForwardHandler = (info: TcpConnectionDetails, accept: AcceptConnection<ClientChannel>, reject: RejectConnection) => void;

const DEFAULT_EXEC_TIMEOUT_MS = 60_000;
const CLOSE_GRACE_MS = 2_000;

export class SshConnection {
  static {
    // ssh2 keeps the parsed keys it has not tried yet (private material included) in its config.
    showOnly(this.prototype, 'SshConnection', (c) => ({ target: c.description, closed: c.closedFlag }));
  }

  /** `user@host:port`. */
  readonly description: string;
  readonly target: ResolvedSshTarget;
  private readonly client: ssh2.Client;
  private readonly releaseHop: (() => Promise<void>) | undefined;
  private closedFlag = false;
  private closeReason: unknown;
  private readonly closeListeners = new Set<(err: SshError) => void>();
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private readonly forwards = new Map<number, ForwardHandler>();

  private constructor(target: ResolvedSshTarget, client: ssh2.Client, releaseHop: (() => Promise<void>) | undefined) {
    this.target = target;
    this.description = describeTarget(target);
    this.client = client;
    this.releaseHop = releaseHop;
    client.on('error', (err) => {
      this.closeReason = err; // e.g. a keepalive timeout; the 'close' that follows reports it
    });
    client.on('close', () => this.markClosed());
    client.on('tcp connection', (info, accept, reject) => {
      const handler = this.forwards.get(info.destPort);
      if (handler) handler(info, accept, reject);
      else reject();
    });
  }

  /** Resolves options against ~/.ssh/config, reaches the host (through bastions), verifies its key and authenticates. */
  static async connect(options: ConnectOptions): Promise<SshConnection> {
    const target = resolveSshTarget(options);
    const description = describeTarget(target);
    const knownHosts = target.hostKeyFingerprint ? [] : await loadKnownHosts(target.knownHostsFiles);
    const auth = await planAuth(target, options);

    let sock: Duplex;
    let releaseHop: (() => Promise<void>) | undefined;
    const last = target.proxyJump.at(-1);
    if (last) {
      const hopOptions: ConnectOptions = {
        ...options,
        host: last.host,
        port: last.port,
        user: last.user,
        proxyJump: target.proxyJump.slice(0, -1).map(formatJumpHost).join(',') || 'none',
        hostKeyFingerprint: undefined, // a pin names the target's key, not a bastion's
      };
      const lease = options.hops ? await options.hops.acquire(hopOptions) : await ownHop(hopOptions);
      releaseHop = () => lease.release();
      try {
        sock = await lease.connection.forwardOut(target.host, target.port, description);
      } catch (err) {
        await releaseHop();
        throw err;
      }
    } else {
      sock = await openSocket(target, description);
    }

    try {
      const client = await handshake(target, description, sock, auth, knownHosts);
      return new SshConnection(target, client, releaseHop);
    } catch (err) {
      sock.destroy();
      await releaseHop?.();
      throw err;
    }
  }

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Called once when the connection ends for any reason; returns an unsubscribe function. */
  onClose(listener: (err: SshError) => void): () => void {
    this.closeListeners.add(listener);
    return () => this.closeListeners.delete(listener);
  }

  /** Runs a command through the remote user's shell; resolves with its exit code, never rejects on a non-zero exit. */
  async exec(command: string, options: ExecOptions = {}): Promise<SshExecResult> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS;
    const channel = await this.request<ClientChannel>('exec', (cb) => this.client.exec(command, cb), (err) =>
      new SshError('SSH_EXEC', `${this.description} refused to run a command: ${err.message}`, {
        target: this.description,
        cause: err,
        hint: 'the server may limit sessions per connection (MaxSessions) or forbid commands for this key (authorized_keys options)',
      }));
    return new Promise<SshExecResult>((resolve, reject) => {
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let settled = false;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        fn();
      };
      const timer = timeoutMs > 0
        ? setTimeout(() => {
            // sshd delivers the signal with killpg to the command's process group; then drop the channel.
            signalChannel(channel, 'KILL');
            channel.close();
            finish(() => reject(new SshError('SSH_TIMEOUT', `command on ${this.description} did not finish within ${timeoutMs} ms: ${brief(command)}`, {
              target: this.description,
              hint: 'raise timeoutMs, or check why the command hangs (waiting for input, a stuck file system, a busy scheduler)',
            })));
          }, timeoutMs)
        : undefined;
      // The status comes from 'close', not 'exit'. ssh2 emits 'exit' as it parses the exit-status packet;
      // on a busy event loop the exec reply, the output, the exit-status and the close come in one TCP
      // read, so 'exit' fired before the `await` above returned here. ssh2 also records the status on
      // the channel, whoever listens, and passes it to 'close' (README: "the close event will be passed
      // the same arguments"), which it emits only after the output stream ended, i.e. after we read it.
      channel.on('close', (...args: unknown[]) => {
        const status = exitStatus(args);
        if (!status && this.closedFlag) return finish(() => reject(closedError(this.description, `while running ${brief(command)}`, this.closeReason)));
        finish(() => resolve({
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
          code: status?.code ?? null,
          signal: status?.signal ?? null,
        }));
      });
      channel.on('data', (d: Buffer) => stdout.push(d));
      channel.stderr.on('data', (d: Buffer) => stderr.push(d));
      // Always send EOF: a command that reads stdin must not wait forever, as with `ssh host cmd </dev/null`.
      if (options.stdin === undefined) channel.end();
      else channel.end(typeof options.stdin === 'string' ? options.stdin : Buffer.from(options.stdin));
    });
  }

  /** The connection's SFTP session, opened on first use and then shared. */
  sftp(): Promise<SFTPWrapper> {
    if (!this.sftpSession) {
      const session = this.request<SFTPWrapper>('sftp', (cb) => this.client.sftp(cb), (err) =>
        new SshError('SSH_SFTP', `cannot start SFTP on ${this.description}: ${err.message}`, {
          target: this.description,
          cause: err,
          hint: 'the server must offer the sftp subsystem (`Subsystem sftp ...` in sshd_config)',
        }));
      this.sftpSession = session;
      session.then(
        (s) => s.on('close', () => { if (this.sftpSession === session) this.sftpSession = undefined; }),
        () => { if (this.sftpSession === session) this.sftpSession = undefined; },
      );
    }
    return this.sftpSession;
  }

  /** A channel to `host:port` as seen from the server (a `direct-tcpip` forward, as ProxyJump uses). */
  forwardOut(host: string, port: number, forWhom = `${host}:${port}`): Promise<ClientChannel> {
    return this.request<ClientChannel>('port forward', (cb) => this.client.forwardOut('127.0.0.1', 0, host, port, cb), (err) => {
      const reason = (err as { reason?: unknown }).reason;
      if (reason === 1) {
        return new SshError('SSH_FORWARD', `${this.description} does not allow forwarding to ${forWhom}`, {
          target: forWhom,
          cause: err,
          hint: `the bastion's sshd must allow TCP forwarding (AllowTcpForwarding yes, PermitOpen) for this user`,
        });
      }
      return socketError(err, forWhom, this.description);
    });
  }

  /**
   * Asks the server to listen on `bindAddr:port` (0 = any free port) and hand each connection to
   * `handler`. Resolves with the port actually bound.
   */
  async forwardIn(bindAddr: string, port: number, handler: ForwardHandler): Promise<{ port: number; close(): Promise<void> }> {
    const bound = await this.request<number>('remote port forward', (cb) => this.client.forwardIn(bindAddr, port, cb), (err) =>
      new SshError('SSH_FORWARD', `${this.description} refused to listen on ${bindAddr}:${port}: ${err.message}`, {
        target: this.description,
        cause: err,
        hint: 'sshd must allow remote forwarding (AllowTcpForwarding yes or remote) and the port must be free; port 0 picks a free one',
      }));
    this.forwards.set(bound, handler);
    return {
      port: bound,
      close: async () => {
        if (this.forwards.get(bound) !== handler) return;
        this.forwards.delete(bound);
        if (this.closedFlag) return;
        await this.request<undefined>('cancel forward', (cb) => this.client.unforwardIn(bindAddr, bound, (err) => cb(err ?? undefined, undefined)), () => undefined).catch(() => undefined);
      },
    };
  }

  /** Ends the connection (and a private bastion connection); idempotent. */
  async close(): Promise<void> {
    if (!this.closedFlag) {
      const done = new Promise<void>((resolve) => {
        const timer = setTimeout(() => { this.client.destroy(); resolve(); }, CLOSE_GRACE_MS);
        this.client.once('close', () => { clearTimeout(timer); resolve(); });
      });
      this.closeReason ??= 'closed by this program';
      this.client.end();
      await done;
      this.markClosed();
    }
  }

  /** Wraps one ssh2 callback request: fails fast when closed, and when the connection drops meanwhile. */
  private request<T>(what: string, start: (cb: (err: Error | undefined, value: T) => void) => void, mapError: (err: Error) => SshError | undefined): Promise<T> {
    if (this.closedFlag) return Promise.reject(closedError(this.description, `cannot start ${what}`, this.closeReason));
    return new Promise<T>((resolve, reject) => {
      const off = this.onClose((err) => reject(err));
      try {
        start((err, value) => {
          off();
          if (!err) return resolve(value);
          if (this.closedFlag) return reject(closedError(this.description, `during ${what}`, err));
          reject(mapError(err) ?? err);
        });
      } catch (err) {
        // ssh2 throws synchronously ("Not connected") when the socket already went away.
        off();
        reject(closedError(this.description, `cannot start ${what}`, err));
      }
    });
  }

  private markClosed(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.sftpSession = undefined;
    this.forwards.clear();
    const err = closedError(this.description, typeof this.closeReason === 'string' ? this.closeReason : 'the connection ended', this.closeReason);
    for (const listener of [...this.closeListeners]) listener(err);
    this.closeListeners.clear();
    void this.releaseHop?.();
  }
}

/** A bastion connection owned by one target connection. */
async function ownHop(options: ConnectOptions): Promise<{ connection: SshConnection; release(): Promise<void> }> {
  const connection = await SshConnection.connect(options);
  return { connection, release: () => connection.close() };
}

function formatJumpHost(j: { host: string; user?: string | undefined; port?: number | undefined }): string {
  const host = j.host.includes(':') ? `[${j.host}]` : j.host;
  return `${j.user ? `${j.user}@` : ''}${host}${j.port ? `:${j.port}` : ''}`;
}

/**
 * ssh2's `channel.signal()` is silently a no-op once EOF was sent (it checks `writable`), and exec
 * always sends EOF for stdin; the protocol call underneath has no such check. ssh2 is pinned, so
 * reaching for its internals here is a known, tested dependency (test/ssh/exec.test.ts).
 */
function signalChannel(channel: ClientChannel, signal: string): void {
  const internals = channel as unknown as {
    _client?: { _protocol?: { signal(id: number, signal: string): void } };
    outgoing?: { id?: number; state?: string };
  };
  const protocol = internals._client?._protocol;
  const id = internals.outgoing?.id;
  const state = internals.outgoing?.state;
  if (protocol && typeof id === 'number' && (state === 'open' || state === 'eof')) {
    try {
      protocol.signal(id, signal);
      return;
    } catch {
      // fall through to the public call
    }
  }
  channel.signal(signal);
}

/** ssh2's 'close' arguments for a session channel: `(code)` after exit-status, `(null, signal, ...)` after exit-signal, `()` after neither. */
function exitStatus(args: readonly unknown[]): { code: number | null; signal: string | null } | undefined {
  const [code, signal] = args;
  if (typeof code === 'number') return { code, signal: null };
  if (code === null && typeof signal === 'string') return { code: null, signal };
  return undefined;
}

function brief(command: string): string {
  return command.length > 80 ? `${command.slice(0, 77)}...` : command;
}
