import { randomBytes } from 'node:crypto';
import { nanoid } from 'nanoid';
import { closeSocket } from '../../protocol/close.js';
import type { ServiceStatus } from '../../protocol/service-messages.js';
import { CloseCode, DEFAULT_MAX_FRAME_BYTES } from '../../protocol/version.js';
import { resolveProfile } from '../config/index.js';
import { resolveClusterOptions, type ClusterOptions } from '../config/options.js';
import { WsEndpoint } from '../engine/endpoint.js';
import { Engine } from '../engine/engine.js';
import { createLogger, type Logger } from '../util/logger.js';
import { showOnly } from '../util/show-only.js';
import { ClientSession, type SessionHost } from './session.js';
import { removeState, servicesDir, writeState, type ServiceState } from './state-file.js';
import { join } from 'node:path';

export interface ServiceOptions {
  /** The profile's name: names the state file. */
  profile: string;
  /** Options of the pool (the profile's, with overrides such as `agents`). */
  cluster: ClusterOptions;
  /** Where clients connect. @default 127.0.0.1, a free port */
  host?: string;
  port?: number;
  /** Serve the web dashboard and /metrics (unless the profile's `dashboard` says where). @default true */
  dashboard?: boolean;
  /** Most bytes of detached calls' results kept on disk (the oldest finished calls go first). @default 1 GiB */
  detachedBytes?: number;
  /** Write the state file once the pool is up. @default true */
  writeStateFile?: boolean;
  logFile?: string | null;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
}

/** A client must present its credential this soon after connecting. */
const CLIENT_AUTH_TIMEOUT_MS = 5_000;

/**
 * A long-lived coordinator (`clustrix up`): the engine holding a pool, plus a WebSocket endpoint
 * where programs attach with `Cluster.connect()`. Each client gets a session over a scope of its
 * own: its tasks and unnamed actors go when it goes, nobody else's are touched.
 */
export class ClusterService implements SessionHost {
  static {
    showOnly(this.prototype, 'ClusterService', (s) => ({
      serviceId: s.serviceId, profile: s.options.profile, backend: s.engine.options.backend, address: s.address, clients: s.sessions.size,
    }));
  }

  readonly credential = randomBytes(32).toString('base64url');
  readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES;
  readonly serviceId = nanoid(8).replace(/[-_]/g, 'x');
  readonly startedAt = Date.now();
  readonly sessions = new Set<ClientSession>();
  /** Resolves once the service has stopped. */
  readonly stopped: Promise<void>;
  address = '';
  private endpoint!: WsEndpoint;
  private stopping: Promise<void> | null = null;
  private markStopped!: () => void;
  private nextClient = 1;

  private constructor(
    private readonly options: ServiceOptions,
    readonly engine: Engine,
    readonly log: Logger,
  ) {
    this.stopped = new Promise((resolve) => (this.markStopped = resolve));
  }

  static async start(options: ServiceOptions): Promise<ClusterService> {
    const log = options.log ?? createLogger();
    const resolved = resolveClusterOptions(resolveProfile(options.cluster));
    if (options.dashboard !== false) resolved.dashboard ??= { host: '127.0.0.1', port: 0 };
    const engine = await Engine.start(resolved, log);
    try {
      engine.enableDetached(join(servicesDir(options.env), `${options.profile}.results`), options.detachedBytes ?? 1024 ** 3);
    } catch (err) {
      await engine.close();
      throw err;
    }
    const service = new ClusterService(options, engine, log);
    try {
      await service.open();
    } catch (err) {
      await engine.close();
      throw err;
    }
    return service;
  }

  private async open(): Promise<void> {
    const o = this.options;
    this.endpoint = new WsEndpoint({ tls: null, maxFrameBytes: this.maxFrameBytes, handshakeTimeoutMs: CLIENT_AUTH_TIMEOUT_MS }, ({ ws, authenticated }) => {
      if (this.stopping) closeSocket(ws, CloseCode.shutdown, 'service stopping');
      else new ClientSession(ws, this, authenticated);
    });
    const { host: address, port } = await this.endpoint.listen(o.host ?? '127.0.0.1', o.port ?? 0);
    this.address = `ws://${address.includes(':') ? `[${address}]` : address}:${port}`;
    if (o.writeStateFile !== false) writeState(this.state(), o.env);
    this.log.info(`service ${this.serviceId} (${o.profile}, ${this.engine.options.backend}) ready at ${this.address} with ${this.engine.agents().length} agents`);
  }

  state(): ServiceState {
    return {
      profile: this.options.profile,
      address: this.address,
      credential: this.credential,
      pid: process.pid,
      serviceId: this.serviceId,
      backend: this.engine.options.backend,
      agents: this.engine.agents().length,
      startedAt: this.startedAt,
      logFile: this.options.logFile ?? null,
    };
  }

  register(session: ClientSession): string {
    this.sessions.add(session);
    const id = `c${this.nextClient++}`;
    this.log.info(`client ${id} (${session.name}) connected`);
    return id;
  }

  unregister(session: ClientSession, released: { tasks: number; actors: number }): void {
    this.sessions.delete(session);
    const what = [released.tasks ? `${released.tasks} of its tasks cancelled` : '', released.actors ? `${released.actors} of its actors killed` : ''].filter(Boolean).join(', ');
    this.log.info(`client ${session.id} (${session.name}) left${what ? `; ${what}` : ''}`);
  }

  describe(): { serviceId: string; profile: string; backend: string } {
    return { serviceId: this.serviceId, profile: this.options.profile, backend: this.engine.options.backend };
  }

  status(): ServiceStatus {
    const clients = [...this.sessions].map((s) => ({ id: s.id, name: s.name, tasks: s.taskCount, connectedAt: s.connectedAt }));
    return { ...this.describe(), pid: process.pid, startedAt: this.startedAt, agents: this.engine.agents(), pending: this.engine.pendingAgents(), clients };
  }

  /** Stops the pool (cancelling its jobs), tells every client, removes the state file. Idempotent. */
  stop(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      this.log.info(`stopping: ${reason}`);
      if (this.options.writeStateFile !== false) removeState(this.options.profile, process.pid, this.options.env);
      for (const s of this.sessions) s.send({ type: 'event', name: 'closing', data: { reason } });
      try {
        await this.engine.close();
      } finally {
        for (const s of [...this.sessions]) s.close(CloseCode.shutdown, `service stopped: ${reason}`);
        await this.endpoint.close();
        this.markStopped();
      }
    })();
    return this.stopping;
  }
}
