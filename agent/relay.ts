/**
 * The login node's relay for `connect: 'tunnel'`: the same bundle as the agent, started with
 * CLUSTRIX_RELAY_LISTEN in its environment (`CLUSTRIX_RELAY_LISTEN=... node agent.cjs`).
 *
 * The coordinator's SSH remote forward listens on the login node's loopback only (sshd's usual
 * `GatewayPorts no`), which compute nodes cannot reach. The relay listens on the login node's
 * cluster-facing address and pipes each connection, byte for byte, to that forward. It never looks
 * inside: TLS and the token check stay end to end between agent and coordinator, so the relay
 * holds no secret and a stranger who connects to it only reaches the coordinator's handshake.
 *
 * No relay may be orphaned on a login node, so it exits:
 * - on SIGTERM or SIGINT (the coordinator's `close()`); SIGHUP is ignored, as under `nohup`,
 * - when its stdin closes, with CLUSTRIX_EXIT_WITH_STDIN=1,
 * - by itself when no connection is open and the target has been unreachable for CLUSTRIX_GRACE_MS
 *   (the SSH connection is gone, and its forward with it). While idle it checks the target with a
 *   plain TCP connect now and then; that reaches the coordinator as a connection that closes at
 *   once, which its server ignores.
 *
 * | variable | meaning |
 * |---|---|
 * | CLUSTRIX_RELAY_LISTEN | `host:port` to listen on (`[v6]:port`; port 0 = any free port) (required) |
 * | CLUSTRIX_RELAY_TARGET | `host:port` every connection is piped to (required) |
 * | CLUSTRIX_RELAY_PORT_FILE | written (0600, atomically) with the bound port once listening; removed on exit |
 * | CLUSTRIX_GRACE_MS | exit after this long idle with the target unreachable (default 60000) |
 * | CLUSTRIX_EXIT_WITH_STDIN | `1`: exit when stdin closes |
 *
 * Only node builtins here: this file is part of the one-file agent bundle.
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, isIP, type AddressInfo, type Socket } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

export interface RelayConfig {
  listen: HostPort;
  target: HostPort;
  portFile: string | null;
  graceMs: number;
  exitWithStdin: boolean;
}

/** A problem in the relay's environment: printed, then the relay exits with code 2. */
export class RelayConfigError extends Error {
  override name = 'RelayConfigError';
}

const DEFAULT_GRACE_MS = 60_000;
/** Idle probes of the target: often enough to notice within the grace, never busier than this. */
const MAX_PROBE_INTERVAL_MS = 10_000;
const MIN_PROBE_INTERVAL_MS = 100;
const PROBE_TIMEOUT_MS = 5_000;
/** A socket whose peer finished cleanly gets this long to flush before it is cut. */
const LINGER_MS = 30_000;

export function readRelayConfig(env: NodeJS.ProcessEnv = process.env): RelayConfig {
  const listen = parseHostPort(env.CLUSTRIX_RELAY_LISTEN, 'CLUSTRIX_RELAY_LISTEN', true);
  const target = parseHostPort(env.CLUSTRIX_RELAY_TARGET, 'CLUSTRIX_RELAY_TARGET', false);
  const rawGrace = env.CLUSTRIX_GRACE_MS;
  let graceMs = DEFAULT_GRACE_MS;
  if (rawGrace !== undefined && rawGrace !== '') {
    const n = Number(rawGrace);
    if (!Number.isSafeInteger(n) || n < 0) throw new RelayConfigError(`CLUSTRIX_GRACE_MS must be a non-negative integer, got ${JSON.stringify(rawGrace)}`);
    if (n > 0) graceMs = n;
  }
  return {
    listen,
    target,
    portFile: env.CLUSTRIX_RELAY_PORT_FILE || null,
    graceMs,
    exitWithStdin: env.CLUSTRIX_EXIT_WITH_STDIN === '1',
  };
}

/** `host:port` or `[v6]:port`. */
export function parseHostPort(value: string | undefined, what: string, allowZero: boolean): HostPort {
  if (!value) throw new RelayConfigError(`${what} must be host:port, got nothing`);
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:[\]]+):(\d+)$/.exec(value);
  const host = m?.[1];
  const port = Number(m?.[2]);
  if (!m || !host || !Number.isInteger(port) || port > 65_535 || (port === 0 && !allowZero)) {
    throw new RelayConfigError(`${what} must be host:port (IPv6 as [addr]:port${allowZero ? ', port 0 for any free port' : ''}), got ${JSON.stringify(value)}`);
  }
  if (m[0].startsWith('[') && isIP(host) !== 6) throw new RelayConfigError(`${what}: ${JSON.stringify(host)} in brackets is not an IPv6 address`);
  return { host, port };
}

export interface RelayHooks {
  /** Called once when the relay stops by itself (grace expired) or through `stop()`. */
  onExit?: (code: number, reason: string) => void;
  /** One line per event worth knowing (errors, the target going away or coming back). */
  log?: (line: string) => void;
}

export interface Relay {
  /** The port actually bound. */
  readonly port: number;
  /** Relayed connections currently open. */
  readonly activeConnections: number;
  /** Closes the listener and every relayed connection, removes the port file; idempotent. */
  stop(code?: number, reason?: string): void;
}

/**
 * Listens, writes the port file, and relays until stopped or until the grace expires. Rejects when
 * it cannot listen or write the port file (nothing is left behind then).
 */
export function startRelay(config: RelayConfig, hooks: RelayHooks = {}): Promise<Relay> {
  const log = hooks.log ?? ((line: string) => process.stderr.write(`clustrix relay: ${line}\n`));
  const sockets = new Set<Socket>();
  let active = 0;
  let lastAlive = Date.now();
  let targetDown = false;
  let probing = false;
  let stopped = false;
  let portFileWritten = false;
  const target = `${formatHostPort(config.target)}`;

  const markAlive = (): void => {
    lastAlive = Date.now();
    if (targetDown) log(`target ${target} reachable again`);
    targetDown = false;
  };
  const markDown = (err: Error): void => {
    if (!targetDown) {
      log(`target ${target} unreachable (${describe(err)}); exiting after ${config.graceMs} ms idle without it`);
    }
    targetDown = true;
  };

  const server = createServer({ allowHalfOpen: true, pauseOnConnect: true }, (client) => {
    if (stopped) return void client.destroy();
    active++;
    const upstream = connect({ host: config.target.host, port: config.target.port, allowHalfOpen: true });
    sockets.add(client);
    sockets.add(upstream);
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      s.setKeepAlive(true, 30_000);
    }
    let connected = false;
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      active--;
      // The connection was alive until now: the idle grace counts from its end.
      if (connected) lastAlive = Date.now();
    };
    upstream.once('connect', () => {
      connected = true;
      markAlive();
      // pipe() carries half-closes both ways (end → FIN), which WebSocket close handshakes rely on.
      client.pipe(upstream);
      upstream.pipe(client);
    });
    const pairUp = (self: Socket, other: Socket, name: string): void => {
      self.on('error', (err) => {
        if (name === 'target' && !connected) {
          markDown(err);
          log(`connection from ${client.remoteAddress ?? '?'}:${client.remotePort ?? '?'} refused: cannot reach ${target}: ${describe(err)}`);
        } else if (!isReset(err)) {
          log(`${name} connection error: ${describe(err)}`);
        }
      });
      self.on('close', (hadError) => {
        sockets.delete(self);
        if (hadError || !connected) other.destroy();
        else {
          // A clean close: both directions finished here, so `other` has its FIN too and closes
          // once its buffer is flushed; the timer only cuts a peer that never finishes.
          other.end();
          setTimeout(() => other.destroy(), LINGER_MS).unref();
        }
        if (!sockets.has(other)) finish();
      });
    };
    pairUp(client, upstream, 'client');
    pairUp(upstream, client, 'target');
  });

  const probe = (): void => {
    if (probing || stopped) return;
    probing = true;
    const s = connect({ host: config.target.host, port: config.target.port });
    const done = (err?: Error): void => {
      if (!probing) return;
      probing = false;
      s.destroy();
      if (err) markDown(err);
      else markAlive();
    };
    s.setTimeout(PROBE_TIMEOUT_MS, () => done(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
    s.once('connect', () => done());
    s.on('error', (err) => done(err));
  };

  const probeEvery = Math.max(MIN_PROBE_INTERVAL_MS, Math.min(MAX_PROBE_INTERVAL_MS, Math.floor(config.graceMs / 4)));
  const ticker = setInterval(() => {
    if (active > 0) {
      lastAlive = Date.now();
      return;
    }
    const idle = Date.now() - lastAlive;
    if (idle >= config.graceMs) {
      stop(1, `no connection and target ${target} unreachable for ${idle} ms (grace ${config.graceMs} ms)`);
      return;
    }
    probe();
  }, probeEvery);

  const stop = (code = 0, reason = 'stopped'): void => {
    if (stopped) return;
    stopped = true;
    clearInterval(ticker);
    server.close();
    for (const s of sockets) s.destroy();
    sockets.clear();
    if (portFileWritten && config.portFile) rmSync(config.portFile, { force: true });
    hooks.onExit?.(code, reason);
  };

  return new Promise<Relay>((resolve, reject) => {
    server.once('error', (err) => {
      clearInterval(ticker);
      stopped = true;
      reject(new Error(`cannot listen on ${formatHostPort(config.listen)}: ${describe(err)}`, { cause: err }));
    });
    server.listen({ host: config.listen.host, port: config.listen.port, exclusive: true }, () => {
      server.removeAllListeners('error');
      server.on('error', (err) => log(`listener error: ${describe(err)}`));
      const port = (server.address() as AddressInfo).port;
      if (config.portFile) {
        try {
          writePortFile(config.portFile, port);
          portFileWritten = true;
        } catch (err) {
          stop(1, 'cannot write the port file');
          reject(new Error(`cannot write CLUSTRIX_RELAY_PORT_FILE ${config.portFile}: ${describe(err)}`, { cause: err }));
          return;
        }
      }
      log(`listening on ${formatHostPort({ host: config.listen.host, port })}, relaying to ${target}`);
      probe();
      resolve({
        port,
        get activeConnections() {
          return active;
        },
        stop,
      });
    });
  });
}

/**
 * The process entry (agent/main.ts calls it when CLUSTRIX_RELAY_LISTEN is set): reads the
 * environment, relays, and exits the process on SIGTERM/SIGINT, stdin EOF (CLUSTRIX_EXIT_WITH_STDIN=1)
 * or an expired grace. Exit codes: 0 asked to stop, 1 gave up or failed, 2 bad environment.
 */
export function runRelay(env: NodeJS.ProcessEnv = process.env): void {
  let config: RelayConfig;
  try {
    config = readRelayConfig(env);
  } catch (err) {
    if (!(err instanceof RelayConfigError)) throw err;
    process.stderr.write(`clustrix relay: ${err.message}\n`);
    process.exit(2);
  }
  const exit = (code: number, reason: string): void => {
    process.stderr.write(`clustrix relay: exiting: ${reason}\n`);
    process.exit(code);
  };
  let relay: Relay | undefined;
  let pending: { code: number; reason: string } | undefined;
  const stop = (code: number, reason: string): void => {
    if (relay) relay.stop(code, reason);
    else pending ??= { code, reason };
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stop(0, signal));
  // Node resets inherited signal dispositions at startup, undoing `nohup`: ignore hang-ups again.
  process.on('SIGHUP', () => undefined);
  if (config.exitWithStdin) {
    process.stdin.on('end', () => stop(0, 'stdin closed'));
    process.stdin.on('close', () => stop(0, 'stdin closed'));
    process.stdin.on('error', () => stop(0, 'stdin closed'));
    process.stdin.resume();
  }
  startRelay(config, { onExit: exit }).then(
    (r) => {
      relay = r;
      if (pending) r.stop(pending.code, pending.reason);
    },
    (err: unknown) => {
      process.stderr.write(`clustrix relay: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

/** Temp file in the same directory, then rename: a reader sees no file or the whole port. */
function writePortFile(path: string, port: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  writeFileSync(tmp, `${port}\n`, { mode: 0o600, flag: 'wx' });
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

function formatHostPort({ host, port }: HostPort): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}${e.message && !e.message.includes(e.code) ? ` ${e.message}` : ''}` : String(e?.message ?? err);
}

function isReset(err: NodeJS.ErrnoException): boolean {
  return err.code === 'ECONNRESET' || err.code === 'EPIPE';
}
