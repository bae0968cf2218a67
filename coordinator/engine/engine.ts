import { customAlphabet, nanoid } from 'nanoid';
import type { AgentMessage } from '../../protocol/agent-messages.js';
import type { ActorInfo, AgentInfo, LinkBytes, PendingAgent } from '../../protocol/rows.js';
import { CloseCode } from '../../protocol/version.js';
import { loadTls } from '../backends/tls.js';
import type { PoolEnvironment } from '../code/agent-environment.js';
import type { ResolvedClusterOptions } from '../config/options.js';
import { ClusterClosedError, ValueTooLargeError } from '../errors/errors.js';
import { createLogger, type Logger } from '../util/logger.js';
import { showOnly } from '../util/show-only.js';
import { ActorManager } from './actor-manager.js';
import { AgentServer, welcomeMessage, type AcceptedAgent } from './agent-server.js';
import { EngineObjects } from './engine-objects.js';
import { AgentLink } from './link.js';
import { Pools } from './pools.js';
import { Scheduler } from './scheduler.js';
import { EngineScope, type ScopeEvents, type ShareBy } from './scope.js';
import type { OriginScope } from './task.js';
import { Submitter } from './submit.js';
import { WorkTracker } from './work-tracker.js';
import { DetachedCalls } from './detached.js';
import { DashboardServer, type DashboardHost } from '../dashboard/server.js';
import type { MetricsSource } from '../dashboard/metrics.js';
import { LiveSession } from '../dashboard/live.js';
import { liveSource } from '../dashboard/live-source.js';
import { closeSocket } from '../../protocol/close.js';
import { LingeringMap } from './lingering-map.js';
import { routeLog } from './log-routing.js';

/** What the engine tells about itself: the same for an embedded program and a service's clients. */
export interface EngineInfo {
  id: string;
  backend: string;
  retries: number;
  maxFrameBytes: number;
}

/**
 * The coordinator's machinery, once, for `Cluster.start()` and for `clustrix up`: the agent
 * server, the pool and its launcher, the scheduler and the actor manager. Programs reach it
 * through scopes (one per embedded cluster, one per connected client), which own their tasks
 * and actors and hear the events meant for them.
 */
export class Engine {
  static {
    // It holds the token and its digest (options, server, launcher).
    showOnly(this.prototype, 'Engine', (e) => ({ id: e.id, backend: e.options.backend, agents: e.pool.links.size }));
  }

  private closing: Promise<void> | null = null;
  readonly submitter: Submitter;
  /** Calls, history, outcome counts and latencies of every scope's tasks. */
  readonly work: WorkTracker;
  readonly actors: ActorManager;
  /** Values kept on the cluster (refs): where they are, lineage, handles. */
  readonly objects: EngineObjects;
  readonly scopes = new Set<EngineScope>();
  /** The scope that owns each running task (by engine task id), for its log lines. */
  private readonly taskOwners = new LingeringMap<{ readonly scope?: OriginScope; readonly taskId: string }>(LOG_OWNER_GRACE_MS);
  private agentsQueued = false;
  private readonly taskIdPrefix = `${nanoid(6)}.`;
  private tasksNumbered = 0;
  /** Bytes of frames of agents gone, so the totals do not drop when one leaves. */
  private readonly goneBytes = { in: 0, out: 0 };
  /** Detached calls and their stored results (a service's; null in an embedded cluster). */
  detached: DetachedCalls | null = null;
  /** The web dashboard and /metrics, when `dashboard` is set. */
  dashboard: DashboardServer | null = null;

  private constructor(
    readonly id: string,
    readonly options: ResolvedClusterOptions,
    private readonly server: AgentServer,
    readonly scheduler: Scheduler,
    readonly pool: Pools,
    readonly log: Logger,
    ready: { engine?: Engine },
  ) {
    ready.engine = this;
    this.objects = new EngineObjects(() => pool.links);
    this.work = new WorkTracker({ maxEntries: options.historyEntries, maxBytes: options.historyBytes });
    this.submitter = new Submitter(scheduler, this.objects.directory, () => this.closing !== null, options.maxFrameBytes, this.work);
    this.actors = new ActorManager(() => pool.links.values(), log, options.maxFrameBytes, (info) => this.actorChanged(info), (link) => scheduler.linkChanged(link), this.objects.directory, (cpus, p) => scheduler.couldPlace({ cpus }, p));
  }

  /** Starts the agent server and the pool; resolves once every agent has connected. */
  static async start(options: ResolvedClusterOptions, log: Logger = createLogger()): Promise<Engine> {
    const id = clusterId();
    const tls = options.tls ? loadTls(options.tls, options.advertiseHost ? [options.advertiseHost] : []) : null;
    const growable = { pools: null as Pools | null };
    const scheduler = new Scheduler({ maxPipelinePerSlot: options.maxPipelinePerSlot, warn: (m) => log.warn(m), growable: (p) => growable.pools?.growable(p) ?? true });
    // The server exists before the engine; agents that connect that early are turned away.
    const ready: { engine?: Engine } = {};
    const server = new AgentServer(
      { token: options.token, maxFrameBytes: options.maxFrameBytes, heartbeatMs: options.heartbeatMs, authTimeoutMs: 5_000, tls: tls ? { cert: tls.cert, key: tls.key } : null },
      (agent) => {
        if (ready.engine) ready.engine.accept(agent);
        else agent.socket.close(CloseCode.shutdown, 'cluster not ready');
      },
      log,
    );
    // The backend says where to listen: only where its agents dial in (loopback for local agents
    // and tunnels, the advertised interface for direct connect-back).
    const listen = async (host: string): Promise<number> => {
      const { port } = await server.listen(host, options.port);
      log.debug(`listening for agents on ${host}:${port}`);
      return port;
    };
    let pool: Pools;
    try {
      pool = await Pools.create(options, { clusterId: id, listen, token: options.token, scheme: tls ? 'wss' : 'ws', certFingerprint: tls?.fingerprint, log }, {
        scheduler,
        onRemove: (link) => {
          scheduler.drain(link);
          ready.engine?.agentsChanged();
        },
        actorsWaiting: (p, fits) => ready.engine?.actors.waiting(p, fits) ?? 0,
        failActors: (error) => ready.engine?.actors.failUnplaced(error),
        holdsState: (link) => ready.engine?.holdsState(link) ?? false,
      }, log);
    } catch (err) {
      await server.close();
      throw err;
    }
    growable.pools = pool;
    const engine = new Engine(id, options, server, scheduler, pool, log, ready);
    try {
      await pool.start();
      if (options.dashboard) engine.dashboard = await DashboardServer.start(engine.dashboardHost(), options.dashboard, log);
    } catch (err) {
      await engine.close();
      throw err;
    }
    return engine;
  }

  get info(): EngineInfo {
    return { id: this.id, backend: this.options.backend, retries: this.options.retries, maxFrameBytes: this.options.maxFrameBytes };
  }

  /** Where each pool's agents run, as `cluster.module()` needs to know it. */
  get environments(): PoolEnvironment[] {
    return this.pool.environments;
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  /** A view of the engine for one program or client: its tasks, its actors, its events. */
  openScope(name: string, events: ScopeEvents, shareBy: ShareBy): EngineScope {
    if (this.closing) throw new ClusterClosedError('the cluster is closed');
    const scope = new EngineScope(this, name, events, shareBy);
    this.scopes.add(scope);
    return scope;
  }

  /** @internal A scope closed. */
  forgetScope(scope: EngineScope): void {
    this.scopes.delete(scope);
  }

  /** @internal Which scope's task `engineId` is, for its log lines; cleared when it settles. */
  ownTask(engineId: string, scope: EngineScope, taskId: string): void {
    this.taskOwners.set(engineId, { scope, taskId });
  }

  /** The task settled; output can trail the result by a moment: keep routing it for a little while. */
  releaseTask(engineId: string): void {
    this.taskOwners.release(engineId);
  }

  /** @internal A task that was never owned (found through its link while it ran) settled: route its trailing output to `owner` for a little while. */
  lingerTask(engineId: string, owner: { readonly scope?: OriginScope; readonly taskId: string }): void {
    this.taskOwners.linger(engineId, owner);
  }

  /**
   * A task id unique across this engine's callers: a counter under a random prefix (a random id
   * per task was a measurable share of a 100,000-task map, and longer on the wire).
   */
  nextTaskId(): string {
    return `${this.taskIdPrefix}${(++this.tasksNumbered).toString(36)}`;
  }

  agents(): AgentInfo[] {
    return [...this.pool.links.values()].map((link) => ({
      id: link.id,
      pool: link.pool,
      host: link.hello.host,
      pid: link.hello.pid,
      slots: link.slots,
      state: link.state,
      busy: link.inflight.size,
      tasksDone: link.tasksDone,
      jobId: link.hello.jobId ?? this.pool.jobIdOf(link.id) ?? null,
      rssBytes: link.rssBytes,
      walltimeLeftMs: link.hello.walltimeLeftMs === null ? null : link.hello.walltimeLeftMs - (Date.now() - link.connectedAt),
      resources: link.resources,
    }));
  }

  pendingAgents(): PendingAgent[] {
    return this.pool.pendingAgents();
  }

  /** Whether an agent holds actors or stored values (adaptive scaling leaves it alone). */
  holdsState(link: AgentLink): boolean {
    if (this.actors.list().some((a) => a.agentId === link.id && a.state !== 'dead')) return true;
    return this.objects.directory.stats().agents.some((a) => a.agentId === link.id && a.objects > 0);
  }

  /** Lets calls outlive their clients, their results kept in `dir` within `budgetBytes` (a service does this). */
  enableDetached(dir: string, budgetBytes: number): void {
    // Each detached call is a share of its own, as a client's map would be.
    const scope = this.openScope('detached calls', { agents: () => undefined, actor: () => undefined, log: () => undefined }, 'call');
    this.detached = new DetachedCalls(scope, dir, budgetBytes);
  }

  /** Each connected agent's traffic so far, asked of the agents now (their peer counts). */
  async linkBytes(): Promise<LinkBytes[]> {
    const links = [...this.pool.links.values()];
    await Promise.all(links.map((l) => l.measure(MEASURE_TIMEOUT_MS)));
    return links.map((l) => ({ agentId: l.id, fromCoordinator: l.bytes.out, toCoordinator: l.bytes.in, fromPeers: l.peerBytes.in, toPeers: l.peerBytes.out }));
  }

  /** What /metrics reads, now. */
  metrics(): MetricsSource {
    const bytes = { ...this.goneBytes };
    for (const link of this.pool.links.values()) {
      bytes.in += link.bytes.in;
      bytes.out += link.bytes.out;
    }
    return {
      outcomes: this.work.outcomes,
      latency: this.work.latency,
      queued: this.scheduler.queued,
      running: this.scheduler.running,
      agents: this.agents(),
      pendingAgents: this.pool.pendingAgents().length,
      actors: this.actors.list().filter((a) => a.state !== 'dead').length,
      bytes,
    };
  }

  private dashboardHost(): DashboardHost {
    return {
      metrics: () => this.metrics(),
      live: (ws) => {
        if (this.closing) closeSocket(ws, CloseCode.shutdown, 'the cluster is closing');
        else new LiveSession(ws, liveSource(this), this.log);
      },
    };
  }

  /** Stops every agent and job. Queued and running tasks fail with CLUSTER_CLOSED. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.dashboard?.close();
      this.scheduler.close(new ClusterClosedError('the cluster was closed before the task finished'));
      this.actors.closeAll();
      this.objects.directory.clear(new ClusterClosedError('the cluster was closed'));
      await this.pool.close();
      await this.pool.release();
      await this.server.close();
    })();
    return this.closing;
  }

  private accept({ socket, hello, rest }: AcceptedAgent): void {
    const id = hello.agentId ?? `${this.id}-x${nanoid(6)}`;
    const link = new AgentLink(id, hello, socket, this.options.heartbeatMs, {
      message: (l, m) => this.onMessage(l, m),
      invalid: (l, reason) => this.log.warn(`agent ${l.id} sent a bad frame: ${reason}`),
      // Arguments are checked when packed; this is the net under it (e.g. a huge module bundle).
      oversize: (l, m, bytes) => {
        const task = m.type === 'task' ? l.inflight.get(m.id) : undefined;
        if (task) this.scheduler.cancel(task, new ValueTooLargeError(`task ${task.id} is a message of ${bytes} bytes, larger than a frame may be`, 'arguments'));
        else this.log.warn(`dropped a '${m.type}' message of ${bytes} bytes for agent ${l.id}: larger than a frame may be`);
      },
      closed: (l, reason) => {
        this.goneBytes.in += l.bytes.in;
        this.goneBytes.out += l.bytes.out;
        this.scheduler.removeLink(l, reason);
        this.objects.linkLost(l, reason);
        this.actors.onLinkLost(l, reason);
        this.pool.detach(l, reason);
        this.agentsChanged();
      },
    });
    if (!this.pool.attach(link)) {
      link.close(CloseCode.shutdown, 'cluster closing');
      return;
    }
    link.send(welcomeMessage(id, this.options.heartbeatMs, this.options));
    this.log.debug(`agent ${id} connected from ${hello.host} (pid ${hello.pid}, ${hello.slots} slots)`);
    this.scheduler.addLink(link);
    this.actors.onLinkAdded();
    this.agentsChanged();
    link.deliver(rest);
  }

  /** Whose task `engineId` is, for its log line from `link`: a running task's own origin, else an owner entry (actor calls, broadcasts, tasks settled a moment ago). */
  private ownerOf(link: AgentLink, engineId: string): { scope: OriginScope; taskId: string } | undefined {
    // A broadcast's origin names no scope: its owner entry does.
    const origin = link.inflight.get(engineId)?.origin;
    const owner = origin?.scope ? origin : this.taskOwners.get(engineId);
    return owner?.scope ? { scope: owner.scope, taskId: owner.taskId } : undefined;
  }

  private onMessage(link: AgentLink, message: AgentMessage): void {
    switch (message.type) {
      case 'done':
        if (!this.actors.onDone(link, message)) this.scheduler.onDone(link, message);
        return;
      case 'failed':
        if (!this.actors.onFailed(link, message)) this.scheduler.onFailed(link, message);
        return;
      case 'withdrawn':
        this.scheduler.onWithdrawn(link, message.id);
        return;
      case 'kept':
        // The directory first: a task waiting on this object may be queued as the task settles.
        this.objects.directory.kept(message.objectId, link.id, message.size, message.value, message.refs);
        this.scheduler.onDone(link, { type: 'done', id: message.id, value: message.value ?? KEPT, runMs: message.runMs });
        return;
      case 'object-data':
        this.objects.onData(link, message);
        return;
      case 'object-request':
        this.objects.onRequest(link, message);
        return;
      case 'object-copied':
        this.objects.directory.copied(message.objectId, link.id);
        return;
      case 'object-peer':
        link.peerAddress = message.address;
        return;
      case 'actor-ready':
        this.actors.onReady(link, message.actorId);
        return;
      case 'actor-exited':
        this.actors.onExited(link, message);
        return;
      case 'actor-request':
        this.actors.onRequest(link, message);
        return;
      case 'actor-checkpoint':
        this.actors.onCheckpoint(link, message);
        return;
      case 'log':
        routeLog({ agentId: link.id, taskId: message.id, stream: message.stream, text: message.text }, message.id === null ? undefined : this.ownerOf(link, message.id), this.scopes, (agentId) => this.pool.jobIdOf(agentId), this.log);
        return;
      case 'pong': {
        link.ponged(message.t, message.rssBytes, { in: message.peerBytesIn, out: message.peerBytesOut });
        const rtt = Date.now() - message.t;
        link.rttMs = link.rttMs === 0 ? rtt : link.rttMs + (rtt - link.rttMs) * 0.2;
        return;
      }
      case 'draining':
        void this.pool.retire(link, message.reason);
        return;
      case 'hello':
        link.close(CloseCode.protocolError, 'a second hello on one connection');
        return;
      default: {
        const unreachable: never = message;
        throw new Error(`unhandled agent message ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** Scopes hear the agent list once per turn of changes, not once per change. */
  private agentsChanged(): void {
    if (this.agentsQueued) return;
    this.agentsQueued = true;
    queueMicrotask(() => {
      this.agentsQueued = false;
      if (this.scopes.size === 0) return;
      const agents = this.agents();
      for (const scope of this.scopes) scope.emitAgents(agents);
    });
  }

  private actorChanged(info: ActorInfo): void {
    for (const scope of this.scopes) scope.emitActor(info);
  }
}

/** What a kept result settles its task with when its bytes stayed on the agent (nobody reads it). */
const KEPT = new Uint8Array(0);

/** Lines of a task kept routable to its owner after it settles (output can trail the result). */
const LOG_OWNER_GRACE_MS = 2_000;
/** How long `objectStats()` waits for an agent's fresh counts before using its last ones. */
const MEASURE_TIMEOUT_MS = 2_000;

// Lower-case letters and digits: the id names batch jobs, Kubernetes objects (DNS labels) and
// directories, and must be valid in all of them.
const clusterId = customAlphabet('abcdefghijklmnopqrstuvwxyz0123456789', 10);
