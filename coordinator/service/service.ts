import { randomBytes } from 'node:crypto';
import { nanoid } from 'nanoid';
import { closeSocket } from '../../protocol/close.js';
import { CloseCode, DEFAULT_MAX_FRAME_BYTES } from '../../protocol/version.js';
import { makeClassRef, type ActorHandle, type ActorInfo, type ActorOptions } from '../actors/index.js';
import { Cluster } from '../api/cluster.js';
import { WsEndpoint } from '../engine/endpoint.js';
import { showOnly } from '../util/show-only.js';
import { createLogger, type Logger } from '../util/logger.js';
import type { LogEntry } from '../api/logs.js';
import type { ClusterOptions } from '../config/options.js';
import type { Submission, SubmitExtra } from '../engine/submit.js';
import type { ResolvedTaskOptions } from '../api/task-options.js';
import type { ShippedCode } from '../engine/task.js';
import { ClientSession } from './client-session.js';
import type { ServiceHost } from './service-host.js';
import { removeState, writeState, type ServiceState } from './state-file.js';

export interface ServiceOptions {
  /** The profile's name: names the state file. */
  profile: string;
  /** Options of the pool (the profile's, with overrides such as `agents`). */
  cluster: ClusterOptions;
  /** Where clients connect. @default 127.0.0.1, a free port */
  host?: string;
  port?: number;
  /** Write the state file once the pool is up. @default true */
  writeStateFile?: boolean;
  logFile?: string | null;
  env?: NodeJS.ProcessEnv;
  log?: Logger;
}

/** A client must present its credential this soon after connecting. */
const CLIENT_AUTH_TIMEOUT_MS = 5_000;

/** Lines of a task kept routable to its client after it settles (output can trail the result). */
const LOG_OWNER_GRACE_MS = 2_000;

/**
 * A long-lived coordinator (`clustrix up`): an embedded cluster holding a pool, plus a WebSocket
 * endpoint where programs attach with `Cluster.connect()`. Clients are isolated: each one's tasks
 * are tracked by its session and cancelled when it goes.
 */
export class ClusterService implements ServiceHost {
  static {
    showOnly(this.prototype, 'ClusterService', (s) => ({
      serviceId: s.serviceId, profile: s.options.profile, backend: s.backendName, address: s.address, clients: s.sessions.size,
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
  private cluster!: Cluster;
  private endpoint!: WsEndpoint;
  private readonly owners = new Map<string, ClientSession>();
  private stopping: Promise<void> | null = null;
  private markStopped!: () => void;
  private nextClient = 1;
  private agentsKey = '';
  private watch: NodeJS.Timeout | null = null;
  private backendName = 'local';

  private constructor(
    private readonly options: ServiceOptions,
    readonly log: Logger,
  ) {
    this.stopped = new Promise((resolve) => (this.markStopped = resolve));
  }

  static async start(options: ServiceOptions): Promise<ClusterService> {
    const service = new ClusterService(options, options.log ?? createLogger());
    await service.open();
    return service;
  }

  private async open(): Promise<void> {
    const o = this.options;
    this.backendName = o.cluster.backend ?? 'local';
    this.cluster = await Cluster.start({ ...o.cluster, onLog: (entry) => this.routeLog(entry) });
    this.endpoint = new WsEndpoint(
      { tls: null, maxFrameBytes: this.maxFrameBytes, handshakeTimeoutMs: CLIENT_AUTH_TIMEOUT_MS },
      ({ ws, authenticated }) => {
        if (this.stopping) closeSocket(ws, CloseCode.shutdown, 'service stopping');
        else new ClientSession(ws, this, authenticated);
      },
    );
    const { host: address, port } = await this.endpoint.listen(o.host ?? '127.0.0.1', o.port ?? 0);
    this.address = `ws://${address.includes(':') ? `[${address}]` : address}:${port}`;
    // Clients see the agent list without asking: pushed when an agent comes or goes.
    this.watch = setInterval(() => this.pushAgentsIfChanged(), 1_000);
    this.watch.unref();
    if (o.writeStateFile !== false) writeState(this.state(), o.env);
    this.log.info(`service ${this.serviceId} (${o.profile}, ${this.backendName}) ready at ${this.address} with ${this.cluster.agents().length} agents`);
  }

  state(): ServiceState {
    return {
      profile: this.options.profile,
      address: this.address,
      credential: this.credential,
      pid: process.pid,
      serviceId: this.serviceId,
      backend: this.backendName,
      agents: this.cluster.agents().length,
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

  unregister(session: ClientSession, cancelledTasks: number): void {
    this.sessions.delete(session);
    this.log.info(`client ${session.id} (${session.name}) left${cancelledTasks ? `; ${cancelledTasks} of its tasks cancelled` : ''}`);
  }

  describe(): { serviceId: string; profile: string; backend: string; retries: number } {
    return { serviceId: this.serviceId, profile: this.options.profile, backend: this.backendName, retries: this.options.cluster.retries ?? 3 };
  }

  submit(session: ClientSession, code: ShippedCode, exportName: string | null, args: Uint8Array, options: ResolvedTaskOptions, extra: SubmitExtra): Submission {
    const sub = this.cluster.submitCode(code, exportName, [], options, { ...extra, packedArgs: args, rawResult: true });
    this.owners.set(sub.id, session);
    const forget = (): void => void setTimeout(() => this.owners.delete(sub.id), LOG_OWNER_GRACE_MS).unref();
    sub.result.then(forget, forget);
    return sub;
  }

  readyAgents(): string[] {
    return this.cluster
      .agents()
      .filter((a) => a.state === 'ready')
      .map((a) => a.id);
  }

  createActor(code: ShippedCode, exportName: string | null, options: ActorOptions): Promise<ActorHandle> {
    // A class shipped as source has no export: the agent ignores the name, which becomes the class's.
    return this.cluster.actor(makeClassRef(code, exportName ?? code.name), options as ActorOptions<never[]>);
  }

  getActor(name: string): ActorHandle | undefined {
    return this.cluster.getActor(name);
  }

  actors(): ActorInfo[] {
    return this.cluster.actors();
  }

  status(): ReturnType<ServiceHost['status']> {
    const clients = [...this.sessions].map((s) => {
      let tasks = 0;
      for (const subs of s.tasks.values()) tasks += subs.length;
      return { id: s.id, name: s.name, tasks, connectedAt: s.connectedAt };
    });
    return { ...this.describe(), pid: process.pid, startedAt: this.startedAt, agents: this.cluster.agents(), pending: this.cluster.pendingAgents(), clients };
  }

  scale(agents: number): Promise<void> {
    return this.cluster.scale(agents);
  }

  /** Stops the pool (cancelling its jobs), tells every client, removes the state file. Idempotent. */
  stop(reason: string): Promise<void> {
    if (!this.stopping) {
      this.stopping = (async () => {
        this.log.info(`stopping: ${reason}`);
        if (this.watch) clearInterval(this.watch);
        if (this.options.writeStateFile !== false) removeState(this.options.profile, process.pid, this.options.env);
        for (const s of this.sessions) s.send({ type: 'service-closing', reason });
        try {
          await this.cluster.close();
        } finally {
          for (const s of [...this.sessions]) s.close(CloseCode.shutdown, `service stopped: ${reason}`);
          await this.endpoint.close();
          this.markStopped();
        }
      })();
    }
    return this.stopping;
  }

  private routeLog(entry: LogEntry): void {
    const message = { type: 'task-log' as const, agentId: entry.agentId, taskId: entry.taskId, stream: entry.stream, text: entry.text };
    const owner = entry.taskId === null ? undefined : this.owners.get(entry.taskId);
    owner?.send(message);
    let jobId: string | null | undefined;
    for (const s of this.sessions) {
      if (s === owner || s.follow === undefined) continue;
      if (s.follow !== null && s.follow !== entry.agentId) {
        jobId ??= this.cluster.agents().find((a) => a.id === entry.agentId)?.jobId ?? null;
        if (s.follow !== jobId) continue;
      }
      s.send(message);
    }
    if (!owner) this.log.debug(`[${entry.agentId}${entry.taskId ? ` ${entry.taskId}` : ''}] ${entry.text.trimEnd()}`);
  }

  private pushAgentsIfChanged(): void {
    const agents = this.cluster.agents();
    // Actors restart or die without their clients asking: tell the clients that hold them.
    for (const s of this.sessions) s.refreshActors();
    const key = agents.map((a) => `${a.id}:${a.state}`).join(',');
    if (key === this.agentsKey) return;
    this.agentsKey = key;
    const status = this.status();
    for (const s of this.sessions) s.send({ type: 'status-reply', id: 'push', ...status });
  }
}
