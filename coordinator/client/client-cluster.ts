import { basename } from 'node:path';
import type { StatusReply } from '../../protocol/client-messages.js';
import type { AgentInfo, TaskModule } from '../api/cluster.js';
import { isClassRef, makeClassRef, resolveActorOptions, type ActorHandle, type ActorInfo, type ActorOptions, type ClassRef } from '../actors/index.js';
import { bundleModule, captureClass, type ShippableClass } from '../code/index.js';
import { ClientActors } from './client-actors.js';
import { ClusterClosedError, ConfigError } from '../errors/errors.js';
import { dedupLogs, printLog, type LogEntry } from '../api/logs.js';
import { resolveTaskOptions } from '../api/task-options.js';
import { codeOf, makeTaskRef, type Runnable } from '../api/task-ref.js';
import type { TaskSubmitter } from '../engine/submit.js';
import { TaskApi } from '../api/task-api.js';
import { showOnly } from '../util/show-only.js';
import { ServiceConnection } from './connection.js';
import { show } from '../config/issues.js';
import { resolveAddress, type ConnectOptions } from './address.js';

type Instance<C> = C extends abstract new (...args: never[]) => infer I ? I : never;
type CtorArgs<C> = C extends abstract new (...args: infer A) => unknown ? A : never;

/**
 * A program attached to a clustrix service (`clustrix up`) with `Cluster.connect()`: the task API
 * of an embedded cluster, run on the service's warm pool. Closing it cancels this client's tasks
 * and leaves the pool (and other clients) alone, and kills its unnamed actors.
 */
export class ClusterClient extends TaskApi {
  static {
    showOnly(this.prototype, 'ClusterClient', (c) => ({ id: c.id, profile: c.profile, address: c.conn.address }));
  }

  private latest: StatusReply | null = null;
  private closed = false;
  private readonly actorBackend: ClientActors;

  private constructor(
    private readonly conn: ServiceConnection,
    /** The profile of the service this client is attached to. */
    readonly profile: string,
    private readonly flushLogs: () => void,
  ) {
    super();
    this.actorBackend = new ClientActors(conn);
  }

  static async connect(options?: ConnectOptions): Promise<ClusterClient> {
    const target = resolveAddress(options);
    const dedup = options?.onLog ? null : dedupLogs(printLog);
    const sink = options?.onLog ?? dedup!.write;
    const ref: { client?: ClusterClient } = {};
    const name = options?.name ?? `${basename(process.argv[1] ?? 'node')} (pid ${process.pid})`;
    const conn = await ServiceConnection.open(target.address, target.credential, name, {
      log: (entry: LogEntry) => {
        try {
          sink(entry);
        } catch {
          // A throwing sink must not break the connection.
        }
      },
      status: (s) => {
        if (ref.client) ref.client.latest = s;
      },
      actorUpdate: (u) => ref.client?.actorBackend.onUpdate(u),
    });
    const client = new ClusterClient(conn, conn.welcome.profile, dedup?.flush ?? (() => undefined));
    ref.client = client;
    await client.status();
    return client;
  }

  /** Id the service gave this client. */
  get id(): string {
    return this.conn.welcome.clientId;
  }

  protected taskSubmitter(): TaskSubmitter {
    return this.conn;
  }

  protected taskDefaults(): { retries: number; totalSlots: number } {
    return { retries: this.conn.welcome.retries, totalSlots: this.totalSlots() };
  }

  protected assertOpen(): void {
    if (this.closed) throw new ClusterClosedError('this client was closed');
  }

  async broadcast<A extends unknown[], R>(fn: Runnable<A, R>, ...args: A): Promise<Awaited<R>[]> {
    if (this.closed) throw new ClusterClosedError('this client was closed');
    const { code, exportName } = codeOf(fn);
    return (await this.conn.broadcast(code, exportName, args, resolveTaskOptions(undefined, { retries: 0 }))) as Awaited<R>[];
  }

  /**
   * Constructs an actor on the service's pool; resolves with its handle once the constructor has run.
   * An unnamed actor belongs to this client: the service kills it when the client closes or
   * disconnects. A named one stays, for `getActor(name)` from any client, until it is killed.
   */
  async actor<C extends ShippableClass>(cls: C | ClassRef<C>, options?: ActorOptions<CtorArgs<C>>): Promise<ActorHandle<Instance<C>>> {
    if (this.closed) throw new ClusterClosedError('this client was closed');
    const resolved = resolveActorOptions(options as ActorOptions | undefined);
    if (isClassRef(cls)) return (await this.actorBackend.create(cls.code, cls.exportName, resolved)) as ActorHandle<Instance<C>>;
    if (typeof cls !== 'function') throw new ConfigError(`expected a class, or a module class from tasks.cls(name), got ${show(cls)}`);
    const captured = captureClass(cls);
    const code = { hash: captured.hash, kind: 'function' as const, source: captured.source, name: captured.name || 'anonymous class' };
    return (await this.actorBackend.create(code, null, resolved)) as ActorHandle<Instance<C>>;
  }

  /** The live actor registered under `name` on the service (by any client), if any. */
  async getActor<T = unknown>(name: string): Promise<ActorHandle<T> | undefined> {
    if (this.closed) throw new ClusterClosedError('this client was closed');
    if (typeof name !== 'string' || name.length === 0) throw new ConfigError(`getActor(name): expected a non-empty string, got ${show(name)}`);
    return (await this.actorBackend.get(name)) as ActorHandle<T> | undefined;
  }

  /** Every actor of the service (of every client), live or dead. */
  async actors(): Promise<ActorInfo[]> {
    if (this.closed) throw new ClusterClosedError('this client was closed');
    return this.actorBackend.list();
  }

  /** Bundles a TS/JS module with its imports here; the service ships it to its agents once. */
  async module<M = Record<string, unknown>>(entry: string | URL): Promise<TaskModule<M>> {
    const bundle = await bundleModule(entry);
    const code = { hash: bundle.hash, kind: 'module' as const, source: bundle.source, name: bundle.path };
    const exportsList = bundle.exports;
    const check = (name: string): void => {
      if (!exportsList.includes(name)) throw new ConfigError(`module ${bundle.path} has no export '${name}' (exports: ${exportsList.join(', ') || 'none'})`);
    };
    return {
      hash: bundle.hash,
      exports: exportsList,
      fn: (name) => (check(name), makeTaskRef(code, name)),
      cls: (name) => (check(name), makeClassRef(code, name)),
    };
  }

  /** The service's agents, as last reported (the service pushes changes; `status()` refreshes). */
  agents(): AgentInfo[] {
    return this.latest?.agents ?? [];
  }

  /** Asks the service for its agents and clients now. */
  async status(): Promise<StatusReply> {
    const reply = await this.conn.request({ type: 'status', id: nextId() });
    this.latest = reply as StatusReply;
    return this.latest;
  }

  /** Resizes the service's pool (it is shared: other clients see the change too). */
  async scale(n: number): Promise<void> {
    if (this.closed) throw new ClusterClosedError('this client was closed');
    await this.conn.request({ type: 'scale', id: nextId(), agents: n });
    await this.status();
  }

  /** Stops the service itself (what `clustrix down` does); its jobs are cancelled. */
  async stopService(): Promise<void> {
    await this.conn.request({ type: 'stop', id: nextId() });
  }

  /** Receives every log line of one agent or job (or of all: null), through `onLog`. */
  async followLogs(target: string | null): Promise<void> {
    await this.conn.request({ type: 'follow-logs', id: nextId(), target });
  }

  /** Detaches: this client's queued tasks are dropped and running ones cancelled. The pool stays. Idempotent. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.conn.close();
      this.actorBackend.onClosed();
      this.flushLogs();
    }
    return Promise.resolve();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private totalSlots(): number {
    return this.agents().reduce((n, a) => n + a.slots, 0);
  }
}

let counter = 0;
function nextId(): string {
  return `r${++counter}`;
}
