/**
 * `connect: 'tunnel'`: agents on compute nodes that cannot reach the coordinator (a laptop) dial a
 * relay on the login node, which pipes each connection into a remote port forward of the SSH
 * connection the coordinator already holds:
 *
 *   agent ──TCP──► relay relayHost:relayPort ──► sshd 127.0.0.1:remotePort ══SSH══► coordinator localHost:localPort
 *   (compute node)  (login node, agent.cjs in relay mode)  (login node loopback: GatewayPorts no)   (this machine)
 *
 * The relay only moves bytes: TLS (wss) and the token check stay end to end between agent and
 * coordinator, so traffic that leaves a machine is authenticated by the per-cluster secret and the
 * relay holds none. It runs detached (`setsid nohup`) so that it outlives the exec channel that
 * started it; it exits on `close()` (SIGTERM, after checking the pid still is this relay), and by
 * itself once the forward is gone and nothing is connected for its grace period, so a coordinator
 * that dies without closing leaves no relay behind on the login node.
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { TunnelError } from './tunnel-error.js';
import { shellQuote } from '../launchers/batch/shell-quote.js';
import type { ExecOptions, ExecResult } from '../launchers/remote-shell.js';
import type { SshConnection } from '../ssh/connection.js';
import { resolveRemotePath } from '../ssh/sftp-files.js';
import { openReverseTunnel, type ReverseTunnel } from '../ssh/tunnel.js';

export interface TunnelOptions {
  /** The SSH connection to the login node; carries the forward and starts the relay. Not closed by the tunnel. */
  connection: SshConnection;
  /** The coordinator's listening port on this machine. */
  localPort: number;
  /** The coordinator's listening address on this machine. @default '127.0.0.1' */
  localHost?: string;
  /** The login node's address that compute nodes reach; the relay listens there. @default detectRelayHost(connection) */
  relayHost?: string;
  /** The relay's port; 0 lets the login node pick a free one. @default 0 */
  relayPort?: number;
  /** Remote path of agent.cjs on the login node (already uploaded, e.g. by ensureCached). */
  agentPath: string;
  /** Node command on the login node: a name on PATH or an absolute path. @default 'node' */
  node?: string;
  /** Shell lines run before the relay starts (module load, PATH), verbatim and in order. @default none */
  setup?: readonly string[];
  /** Remote directory for the relay's port file and log (under `<remoteDir>/relay/`); `~/` is the remote home. */
  remoteDir: string;
  /** URL scheme agents use: 'wss' when the coordinator serves TLS (the relay passes it through). @default 'ws' */
  scheme?: 'ws' | 'wss';
  /** The relay exits after this long with no connection and the forward unreachable, ms. @default 60000 */
  relayGraceMs?: number;
  /** How long to wait for the relay to listen, ms. @default 20000 */
  startTimeoutMs?: number;
  /** Told about forwarded connections that could not reach the coordinator, and about a relay that could not be stopped. @default ignored */
  onError?: (err: Error) => void;
}

export interface Tunnel {
  /** What agents dial: `ws://relayHost:relayPort` (`wss://` with `scheme: 'wss'`). */
  readonly url: string;
  /** The forward's port on the login node's loopback (what the relay pipes to). */
  readonly remotePort: number;
  readonly relayHost: string;
  /** The port the relay actually bound. */
  readonly relayPort: number;
  /** The relay's pid on the login node. */
  readonly relayPid: number;
  /** Forwarded connections currently open (each relayed agent connection is one). */
  readonly activeConnections: number;
  /** Stops the relay and the forward; idempotent, never rejects (failures go to onError). */
  close(): Promise<void>;
}

/** Anything that runs a shell command on the login node (an SshConnection, an SshShell, a LocalShell). */
export interface CommandRunner {
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
}

const DEFAULT_RELAY_GRACE_MS = 60_000;
const DEFAULT_START_TIMEOUT_MS = 20_000;
const COMMAND_TIMEOUT_MS = 30_000;
const LOG_TAIL_BYTES = 4_000;

/** `clx_alive PID`: the pid exists and is not a zombie (an exited relay nobody reaped yet). */
const ALIVE_FUNCTION = `clx_alive() { [ -d "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }`;

/** Opens the forward, starts the relay on the login node, and resolves once the relay listens. */
export async function openTunnel(options: TunnelOptions): Promise<Tunnel> {
  const { connection } = options;
  const localPort = port(options.localPort, 'localPort', false);
  const relayPort = port(options.relayPort ?? 0, 'relayPort', true);
  const node = word(options.node ?? 'node', 'node');
  const setup = [...(options.setup ?? [])];
  setup.forEach((l, i) => {
    if (typeof l !== 'string') throw new TypeError(`setup[${i}] must be a string, got ${typeof l}`);
  });
  const graceMs = positive(options.relayGraceMs ?? DEFAULT_RELAY_GRACE_MS, 'relayGraceMs');
  const startTimeoutMs = positive(options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, 'startTimeoutMs');
  const scheme = options.scheme ?? 'ws';
  const relayHost = options.relayHost === undefined ? await detectRelayHost(connection) : word(options.relayHost, 'relayHost');
  if (/^(0\.0\.0\.0|::|\[::\])$/.test(relayHost)) {
    throw new TypeError(`relayHost is the address agents dial, so it cannot be the wildcard ${relayHost}: give the login node address the compute nodes reach`);
  }
  const agentPath = await resolveRemotePath(connection, word(options.agentPath, 'agentPath'));
  const relayDir = posix.join(await resolveRemotePath(connection, word(options.remoteDir, 'remoteDir')), 'relay');
  const id = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  const files = { portFile: `${relayDir}/relay-${id}.port`, logFile: `${relayDir}/relay-${id}.log` };

  const forward = await openReverseTunnel(connection, {
    localHost: options.localHost ?? '127.0.0.1',
    localPort,
    onError: options.onError,
  });
  const seen: { pid?: number } = {};
  try {
    const started = await startRelay(connection, { relayHost, relayPort, targetPort: forward.remotePort, agentPath, node, setup, graceMs, startTimeoutMs, ...files }, seen);
    return tunnelHandle(connection, forward, { relayHost, relayPort: started.port, pid: started.pid, agentPath, scheme, onError: options.onError, ...files });
  } catch (err) {
    // A relay that started but never listened in time is stopped; one that exited left only files.
    await stopRelay(connection, { pid: seen.pid, agentPath, ...files }).catch(() => undefined);
    await forward.close();
    throw err;
  }
}

/**
 * The login node's primary address, for the relay to listen on when none is given: the first of
 * `hostname -I`, else `hostname`. Compute nodes usually reach the login node by that address; when
 * they reach it by another (a separate cluster network), pass `relayHost`.
 */
export async function detectRelayHost(runner: CommandRunner): Promise<string> {
  const result = await runner.exec('hostname -I 2>/dev/null; echo "--"; hostname 2>/dev/null', { timeoutMs: COMMAND_TIMEOUT_MS });
  const [addresses = '', name = ''] = result.stdout.split(/^--$/m);
  const host = addresses.trim().split(/\s+/)[0] || name.trim().split(/\s+/)[0];
  if (!host) {
    throw new TunnelError('cannot tell the login node\'s address: neither `hostname -I` nor `hostname` answered', {
      output: result.stderr,
      hint: 'pass relayHost: the login node address the compute nodes reach',
    });
  }
  return host;
}

interface RelayFiles {
  portFile: string;
  logFile: string;
}

interface RelayStart extends RelayFiles {
  relayHost: string;
  relayPort: number;
  targetPort: number;
  agentPath: string;
  node: string;
  setup: string[];
  graceMs: number;
  startTimeoutMs: number;
}

/** One exec: start the relay detached, then wait (on the login node) for its port file. */
async function startRelay(connection: SshConnection, s: RelayStart, seen: { pid?: number }): Promise<{ pid: number; port: number }> {
  const q = shellQuote;
  // The relay's settings travel as environment assignments on its command line. For a moment they
  // are visible in `ps` as part of the login shell's `-c` argument; that is acceptable because they
  // hold no secret, only addresses, ports and paths (the token never reaches the relay).
  const env = [
    `CLUSTRIX_RELAY_LISTEN=${q(hostPort(s.relayHost, s.relayPort))}`,
    `CLUSTRIX_RELAY_TARGET=${q(`127.0.0.1:${s.targetPort}`)}`,
    `CLUSTRIX_RELAY_PORT_FILE=${q(s.portFile)}`,
    `CLUSTRIX_GRACE_MS=${s.graceMs}`,
    // stdin is /dev/null: a CLUSTRIX_EXIT_WITH_STDIN=1 inherited from the login environment would end it at once
    'CLUSTRIX_EXIT_WITH_STDIN=0',
  ].join(' ');
  const polls = Math.ceil(s.startTimeoutMs / 100);
  const tail = `tail -c ${LOG_TAIL_BYTES} ${q(s.logFile)} 2>/dev/null`;
  const command = [
    ...s.setup,
    'umask 077',
    `mkdir -p ${q(posix.dirname(s.portFile))} || exit 90`,
    `rm -f ${q(s.portFile)}`,
    // Logs of relays that exited by themselves (their coordinator died) are kept a week, then swept.
    `find ${q(posix.dirname(s.portFile))} -maxdepth 1 -name 'relay-*.log' -mtime +7 -exec rm -f {} + 2>/dev/null`,
    // setsid: its own session, so it outlives this channel and its hang-up. `$!` is the relay's own
    // pid: a background child of a non-interactive shell is no group leader, so setsid needs no
    // fork, and nohup and node exec in place (close() checks the pid before signalling anyway).
    `${env} setsid nohup ${q(s.node)} ${q(s.agentPath)} > ${q(s.logFile)} 2>&1 < /dev/null &`,
    'clx_pid=$!',
    'echo "clustrix-relay-pid $clx_pid"',
    ALIVE_FUNCTION,
    'clx_n=0',
    `while [ ! -s ${q(s.portFile)} ]; do`,
    `  if ! clx_alive "$clx_pid"; then echo clustrix-relay-exited; ${tail}; exit 91; fi`,
    `  if [ "$clx_n" -ge ${polls} ]; then echo clustrix-relay-timeout; ${tail}; exit 92; fi`,
    '  sleep 0.1; clx_n=$((clx_n + 1))',
    'done',
    `echo "clustrix-relay-port $(cat ${q(s.portFile)})"`,
  ].join('\n');
  const result = await connection.exec(command, { timeoutMs: s.startTimeoutMs + COMMAND_TIMEOUT_MS });
  const pid = Number(/^clustrix-relay-pid (\d+)$/m.exec(result.stdout)?.[1]);
  const port = Number(/^clustrix-relay-port (\d+)$/m.exec(result.stdout)?.[1]);
  if (pid > 0) seen.pid = pid;
  const where = `on ${connection.description}`;
  const output = `${result.stdout.replace(/^clustrix-relay-\S+.*\n?/gm, '')}${result.stderr}`;
  if (result.code === 0 && pid > 0 && port > 0 && port <= 65_535) return { pid, port };
  const error = (message: string, hint: string): TunnelError => new TunnelError(message, { output, hint });
  if (result.code === 91) {
    throw error(`the tunnel relay ${where} exited before listening on ${hostPort(s.relayHost, s.relayPort)}`, `relayHost must be an address of the login node (check \`hostname -I\` there) and relayPort free; node must be Node.js 20+`);
  }
  if (result.code === 92) {
    throw error(`the tunnel relay ${where} did not listen within ${s.startTimeoutMs} ms`, 'raise startTimeoutMs on a slow login node');
  }
  if (result.code === 90) {
    throw error(`cannot make ${posix.dirname(s.portFile)} ${where}`, 'set remoteDir to a writable directory on the login node');
  }
  throw error(`cannot start the tunnel relay ${where} (exit ${result.code ?? 'by signal'})`, 'check the setup lines and that `setsid`, `nohup` and node are available on the login node');
}

interface RelayHandle extends RelayFiles {
  relayHost: string;
  relayPort: number;
  pid: number;
  agentPath: string;
  scheme: 'ws' | 'wss';
  onError: ((err: Error) => void) | undefined;
}

function tunnelHandle(connection: SshConnection, forward: ReverseTunnel, h: RelayHandle): Tunnel {
  let closing: Promise<void> | undefined;
  return {
    url: `${h.scheme}://${formatHost(h.relayHost)}:${h.relayPort}`,
    remotePort: forward.remotePort,
    relayHost: h.relayHost,
    relayPort: h.relayPort,
    relayPid: h.pid,
    get activeConnections() {
      return forward.activeConnections;
    },
    close() {
      closing ??= (async () => {
        // Relay first, forward second: agents see one clean close, not a relay pointing nowhere.
        // With the connection gone there is nothing to run a command with; the relay then exits by
        // itself after its grace, since the forward went with the connection.
        if (!connection.closed) {
          try {
            await stopRelay(connection, h);
          } catch (err) {
            h.onError?.(err instanceof Error ? err : new Error(String(err)));
          }
        }
        await forward.close().catch((err: unknown) => h.onError?.(err instanceof Error ? err : new Error(String(err))));
      })();
      return closing;
    },
  };
}

/**
 * SIGTERM to the relay if the pid still is this relay: alive, running agentPath, and holding this
 * tunnel's port file in its environment (pids are reused); SIGKILL if it is still there after 3 s.
 * Then removes its port file and log.
 */
async function stopRelay(connection: SshConnection, r: RelayFiles & { pid: number | undefined; agentPath: string }): Promise<void> {
  const q = shellQuote;
  const lines = [ALIVE_FUNCTION];
  if (r.pid !== undefined) {
    lines.push(
      `clx_ours() { clx_alive ${r.pid} && tr '\\0' '\\n' < /proc/${r.pid}/cmdline 2>/dev/null | grep -qxF -- ${q(r.agentPath)}` +
        ` && tr '\\0' '\\n' < /proc/${r.pid}/environ 2>/dev/null | grep -qxF -- ${q(`CLUSTRIX_RELAY_PORT_FILE=${r.portFile}`)}; }`,
      'if clx_ours; then',
      `  kill -TERM ${r.pid} 2>/dev/null`,
      '  clx_n=0',
      `  while clx_alive ${r.pid} && [ "$clx_n" -lt 30 ]; do sleep 0.1; clx_n=$((clx_n + 1)); done`,
      `  if clx_ours; then kill -KILL ${r.pid} 2>/dev/null; echo clustrix-relay-killed; fi`,
      'fi',
    );
  }
  lines.push(`rm -f ${q(r.portFile)} ${q(r.logFile)}`);
  const result = await connection.exec(lines.join('\n'), { timeoutMs: COMMAND_TIMEOUT_MS });
  if (result.code !== 0) {
    throw new TunnelError(`cannot stop the tunnel relay (pid ${r.pid ?? '?'}) on ${connection.description}`, {
      output: result.stdout + result.stderr,
      hint: 'it exits by itself once the SSH connection is gone and nothing is connected for its grace period',
    });
  }
}

function hostPort(host: string, p: number): string {
  return `${formatHost(host)}:${p}`;
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function port(value: number, what: string, zeroOk: boolean): number {
  if (!Number.isInteger(value) || value < (zeroOk ? 0 : 1) || value > 65_535) {
    throw new TypeError(`${what} must be an integer ${zeroOk ? '0' : '1'}..65535, got ${String(value)}`);
  }
  return value;
}

function positive(value: number, what: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new TypeError(`${what} must be a positive number of ms, got ${String(value)}`);
  return Math.ceil(value);
}

/** Non-empty, one line, no NUL: it goes into a shell command (quoted) and an environment variable. */
function word(value: string, what: string): string {
  if (typeof value !== 'string' || value === '' || /[\0\n\r]/.test(value)) {
    throw new TypeError(`${what} must be a non-empty single-line string, got ${JSON.stringify(value)}`);
  }
  return value;
}
