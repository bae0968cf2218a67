import { customAlphabet, nanoid } from 'nanoid';
import type { AgentMessage } from '../protocol/agent-messages.js';
import { CloseCode } from '../protocol/version.js';
import { ActorManager, isClassRef, makeClassRef, resolveActorOptions, type ActorHandle, type ActorInfo, type ActorOptions, type ClassRef } from './actors/index.js';
import { createBackend, type Backend } from './backends.js';
import { resolveProfile } from './config/index.js';
import { bundleModule, captureClass, type ShippableClass, type ShippableFunction } from './code/index.js';
import { ClusterClosedError, ConfigError, ValueTooLargeError } from './errors.js';
import type { MapOptions } from './fan-out.js';
import { AgentLink } from './link.js';
import { createLogger, type Logger } from './logger.js';
import { dedupLogs, printLog, type LogEntry } from './logs.js';
import { resolveClusterOptions, type ClusterOptions, type ResolvedClusterOptions } from './options.js';
import { AgentPool } from './pool.js';
import { Scheduler } from './scheduler.js';
import { AgentServer, welcomeMessage, type AcceptedAgent } from './server.js';
import { showOnly } from './show-only.js';
import { closeOnSignals, forgetOnSignals } from './signals.js';
import { loadTls } from './tls.js';
import { Submitter, type LocalSubmission, type SubmitExtra, type TaskSubmitter } from './submit.js';
import { TaskApi } from './task-api.js';
import type { ShippedCode } from './task.js';
import { connectCluster, type ClusterClient, type ConnectOptions } from './client/index.js';
import { resolveTaskOptions, type ResolvedTaskOptions } from './task-options.js';
import { codeOf, makeTaskRef, type Runnable, type TaskRef } from './task-ref.js';

export type { MapOptions };

/** One connected agent, as `cluster.agents()` lists it. */
export interface AgentInfo {
  id: string;
  host: string;
  pid: number;
  slots: number;
  state: 'ready' | 'draining' | 'closed';
  /** Tasks running or queued on it now. */
  busy: number;
  tasksDone: number;
  jobId: string | null;
  rssBytes: number;
  /** Time left before the batch job's walltime ends; null: unlimited. */
  walltimeLeftMs: number | null;
}

/** A module shipped with `cluster.module()`: its exports, as tasks. */
export interface TaskModule<M = Record<string, unknown>> {
  readonly hash: string;
  readonly exports: readonly string[];
  /** A task running the named exported function. */
  fn<K extends FunctionKeys<M>>(name: K): TaskRef<M[K] extends ShippableFunction ? M[K] : never>;
  /** The named exported class, for `cluster.actor()`. */
  cls<K extends ClassKeys<M>>(name: K): ClassRef<M[K] extends ShippableClass ? M[K] : never>;
}

type FunctionKeys<M> = { [K in keyof M]: M[K] extends ShippableFunction ? (M[K] extends ShippableClass ? never : K) : never }[keyof M] & string;
type ClassKeys<M> = { [K in keyof M]: M[K] extends ShippableClass ? K : never }[keyof M] & string;
type Instance<C> = C extends abstract new (...args: never[]) => infer I ? I : never;
type CtorArgs<C> = C extends abstract new (...args: infer A) => unknown ? A : never;

/**
 * A coordinator and its pool of warm agents. `Cluster.start()` with no options starts agents on
 * this machine, using every core.
 */
export class Cluster extends TaskApi {
  static {
    // It holds the token and its digest (options, server, launcher): console.log(cluster) shows this.
    showOnly(this.prototype, 'Cluster', (c) => ({ id: c.id, backend: c.options.backend, agents: c.pool.links.size }));
  }

  private closed = false;
  private closing: Promise<void> | null = null;
  private readonly submitter: Submitter;
  private readonly actorManager: ActorManager;
  /** Task output unless `onLog` is given: a line printed by many tasks appears once, then a count. */
  private readonly logs = dedupLogs(printLog);

  private constructor(
    readonly id: string,
    private readonly options: ResolvedClusterOptions,
    private readonly server: AgentServer,
    private readonly scheduler: Scheduler,
    private readonly pool: AgentPool,
    private readonly backend: Backend,
    private readonly log: Logger,
  ) {
    super();
    this.submitter = new Submitter(scheduler, () => this.closed, options.maxFrameBytes);
    this.actorManager = new ActorManager(() => pool.links.values(), log, options.maxFrameBytes);
  }

  /** Starts a coordinator and its agents; resolves once every agent has connected. */
  static async start(options?: ClusterOptions): Promise<Cluster> {
    if (options !== undefined && (typeof options !== 'object' || options === null)) throw new TypeError('Cluster.start options must be an object');
    // A profile from the config file, under the options given here (a no-op without `profile`).
    const resolved = resolveClusterOptions(resolveProfile(options ?? {}));
    const log = createLogger();
    const id = clusterId();
    const tls = resolved.tls ? loadTls(resolved.tls, resolved.advertiseHost ? [resolved.advertiseHost] : []) : null;
    const scheduler = new Scheduler({ maxPipelinePerSlot: resolved.maxPipelinePerSlot, warn: (m) => log.warn(m) });
    // The server exists before the cluster object; agents that connect that early are turned away.
    const ready: { cluster?: Cluster } = {};
    const server = new AgentServer(
      {
        token: resolved.token,
        maxFrameBytes: resolved.maxFrameBytes,
        heartbeatMs: resolved.heartbeatMs,
        authTimeoutMs: 5_000,
        tls: tls ? { cert: tls.cert, key: tls.key } : null,
      },
      (agent) => {
        if (ready.cluster) ready.cluster.accept(agent);
        else agent.socket.close(CloseCode.shutdown, 'cluster not ready');
      },
      log,
    );
    // The backend says where to listen: only where its agents dial in (loopback for local agents
    // and tunnels, the advertised interface for direct connect-back).
    const listen = async (host: string): Promise<number> => {
      const { port } = await server.listen(host, resolved.port);
      log.debug(`listening for agents on ${host}:${port}`);
      return port;
    };
    let backend: Backend;
    try {
      backend = await createBackend(resolved, { clusterId: id, listen, token: resolved.token, scheme: tls ? 'wss' : 'ws', certFingerprint: tls?.fingerprint, log });
    } catch (err) {
      await server.close();
      throw err;
    }
    const pool = new AgentPool(
      backend.launcher,
      backend.connect,
      {
        startTimeoutMs: resolved.startTimeoutMs,
        slotsFor: backend.slotsFor,
        replaceLostAgents: resolved.replaceLostAgents,
        recoveryTimeoutMs: resolved.recoveryTimeoutMs,
        idPrefix: `${id}-a`,
      },
      log,
      (link) => scheduler.drain(link),
      {
        waiting: () => scheduler.queued + (ready.cluster?.actorManager.waiting() ?? 0),
        fail: (error) => {
          scheduler.failQueued(error);
          ready.cluster?.actorManager.failUnplaced(error);
        },
      },
    );
    const cluster = new Cluster(id, resolved, server, scheduler, pool, backend, log);
    ready.cluster = cluster;
    // Jobs on a scheduler outlive this process unless cancelled: close on Ctrl-C and kill too.
    if (resolved.backend !== 'local') closeOnSignals(cluster);
    try {
      await pool.scale(resolved.agents);
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  protected taskSubmitter(): TaskSubmitter {
    return this.submitter;
  }

  protected taskDefaults(): { retries: number; totalSlots: number } {
    return { retries: this.options.retries, totalSlots: this.totalSlots() };
  }

  // Closed: each submission rejects with ClusterClosedError itself (see Submitter).
  protected assertOpen(): void {}

  /**
   * Attaches to a running clustrix service (`clustrix up <profile>`) as a client: the same API as
   * an embedded cluster, over a WebSocket. The address comes from `options`, from
   * `CLUSTRIX_ADDRESS`, or from the service's state file (`profile`, `CLUSTRIX_PROFILE`, or the one
   * service running).
   */
  static connect(options?: ConnectOptions): Promise<ClusterClient> {
    return connectCluster(options);
  }

  /** @internal The service (coordinator/service/) submits code its clients shipped. */
  submitCode(code: ShippedCode, exportName: string | null, args: unknown[], options: ResolvedTaskOptions, extra?: SubmitExtra): LocalSubmission {
    return this.submitter.submit(code, exportName, args, options, extra);
  }

  /** Runs `fn(...args)` once on every connected agent; one result per agent, in `agents()` order. */
  async broadcast<A extends unknown[], R>(fn: Runnable<A, R>, ...args: A): Promise<Awaited<R>[]> {
    if (this.closed) throw new ClusterClosedError();
    const { code, exportName } = codeOf(fn);
    const task = resolveTaskOptions(undefined, { retries: 0 });
    const targets = [...this.pool.links.values()].filter((l) => l.state === 'ready');
    return Promise.all(targets.map((link) => this.submitter.submit(code, exportName, args, task, { pinned: link.id }).result)) as Promise<Awaited<R>[]>;
  }

  /**
   * Constructs an actor (an instance of `cls` living on one agent, keeping its state between calls);
   * resolves with its handle once the constructor has run there.
   */
  async actor<C extends ShippableClass>(cls: C | ClassRef<C>, options?: ActorOptions<CtorArgs<C>>): Promise<ActorHandle<Instance<C>>> {
    if (this.closed) throw new ClusterClosedError();
    const resolved = resolveActorOptions(options as ActorOptions | undefined);
    let code;
    let exportName: string | null = null;
    if (isClassRef(cls)) {
      code = cls.code;
      exportName = cls.exportName;
    } else {
      if (typeof cls !== 'function') throw new TypeError('cluster.actor needs a class, or a module class from tasks.cls(name)');
      const captured = captureClass(cls);
      code = { hash: captured.hash, kind: 'function' as const, source: captured.source, name: captured.name || 'anonymous class' };
    }
    if (isClassRef(cls)) code = { ...code, name: cls.exportName };
    return (await this.actorManager.create(code, exportName, resolved)) as ActorHandle<Instance<C>>;
  }

  /** The live actor registered under `name`, if any. */
  getActor<T = unknown>(name: string): ActorHandle<T> | undefined {
    return this.actorManager.get(name) as ActorHandle<T> | undefined;
  }

  /** Every actor this cluster created, live or dead. */
  actors(): ActorInfo[] {
    return this.actorManager.list();
  }

  /** Bundles a TS/JS module with its imports (esbuild); its exports run as tasks, shipped once per agent. */
  async module<M = Record<string, unknown>>(entry: string | URL): Promise<TaskModule<M>> {
    const bundle = await bundleModule(entry);
    const code = { hash: bundle.hash, kind: 'module' as const, source: bundle.source, name: bundle.path };
    const exportsList = bundle.exports;
    return {
      hash: bundle.hash,
      exports: exportsList,
      fn: (name) => {
        if (!exportsList.includes(name)) {
          throw new ConfigError(`module ${bundle.path} has no export '${name}' (exports: ${exportsList.join(', ') || 'none'})`);
        }
        return makeTaskRef(code, name);
      },
      cls: (name) => {
        if (!exportsList.includes(name)) {
          throw new ConfigError(`module ${bundle.path} has no export '${name}' (exports: ${exportsList.join(', ') || 'none'})`);
        }
        return makeClassRef(code, name);
      },
    };
  }

  /** The agents connected now. */
  agents(): AgentInfo[] {
    return [...this.pool.links.values()].map((link) => ({
      id: link.id,
      host: link.hello.host,
      pid: link.hello.pid,
      slots: link.slots,
      state: link.state,
      busy: link.inflight.size,
      tasksDone: link.tasksDone,
      jobId: link.hello.jobId ?? this.pool.jobIdOf(link.id) ?? null,
      rssBytes: link.rssBytes,
      walltimeLeftMs: link.hello.walltimeLeftMs === null ? null : link.hello.walltimeLeftMs - (Date.now() - link.connectedAt),
    }));
  }

  /** Agents launched and not connected yet, with their job (queued in the scheduler, or starting). */
  pendingAgents(): { agentId: string; jobId: string }[] {
    return this.pool.pendingAgents();
  }

  /** Adds or removes agents; removed agents finish their running tasks first. */
  async scale(n: number): Promise<void> {
    if (this.closed) throw new ClusterClosedError();
    await this.pool.scale(n);
  }

  /** Stops every agent and job this cluster started. Queued tasks fail with CLUSTER_CLOSED. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.closing = (async () => {
        this.scheduler.close(new ClusterClosedError('the cluster was closed before the task finished'));
        this.actorManager.closeAll();
        await this.pool.close();
        await this.backend.release();
        await this.server.close();
        this.logs.flush();
        forgetOnSignals(this);
      })();
    }
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private totalSlots(): number {
    let n = 0;
    for (const link of this.pool.links.values()) n += link.slots;
    return n;
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
        this.scheduler.removeLink(l, reason);
        this.actorManager.onLinkLost(l, reason);
        this.pool.detach(l, reason);
      },
    });
    if (!this.pool.attach(link)) {
      link.close(CloseCode.shutdown, 'cluster closing');
      return;
    }
    link.send(welcomeMessage(id, this.options.heartbeatMs));
    this.log.debug(`agent ${id} connected from ${hello.host} (pid ${hello.pid}, ${hello.slots} slots)`);
    this.scheduler.addLink(link);
    this.actorManager.onLinkAdded();
    link.deliver(rest);
  }

  private onMessage(link: AgentLink, message: AgentMessage): void {
    switch (message.type) {
      case 'done':
        if (!this.actorManager.onDone(link, message)) this.scheduler.onDone(link, message);
        return;
      case 'failed':
        if (!this.actorManager.onFailed(link, message)) this.scheduler.onFailed(link, message);
        return;
      case 'actor-ready':
        this.actorManager.onReady(link, message.actorId);
        return;
      case 'actor-exited':
        this.actorManager.onExited(link, message);
        return;
      case 'actor-request':
        this.actorManager.onRequest(link, message);
        return;
      case 'log':
        this.emitLog({ agentId: link.id, taskId: message.id, stream: message.stream, text: message.text });
        return;
      case 'pong': {
        link.rssBytes = message.rssBytes;
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

  private emitLog(entry: LogEntry): void {
    try {
      (this.options.onLog ?? this.logs.write)(entry);
    } catch (err) {
      this.log.error(`onLog threw: ${(err as Error).message}`);
    }
  }
}

// Lower-case letters and digits: the id names batch jobs, Kubernetes objects (DNS labels) and
// directories, and must be valid in all of them.
const clusterId = customAlphabet('abcdefghijklmnopqrstuvwxyz0123456789', 10);
