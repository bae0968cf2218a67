import type { AgentInfo, DashboardAccess, DetachedRow, LogEntry, PendingAgent, TaskHistory } from '../../protocol/rows.js';
import { ClusterClosedError } from '../errors/errors.js';
import type { Transport } from '../transport/transport.js';
import { ClusterActors } from './actors.js';
import { ClusterEventsHub, type ClusterEvents } from './events.js';
import type { StreamResult } from './fan-out.js';
import { historyQuery, type HistoryOptions } from './history.js';
import { assertCallId, collectedValue, collectStream } from './detach.js';
import { dedupLogs, printLog } from './logs.js';
import { forgetOnSignals } from './signals.js';
import { TaskCaller } from './task-call.js';
import { ClusterObjects } from './objects.js';
import { Values } from './values.js';
import { resolveAdaptOptions, resolveScaleOptions, type AdaptOptions, type ScaleOptions } from './scale-options.js';

/**
 * What a Cluster is beside running code: its transport and the state both roles share, the events
 * it hears, and the pool- and service-facing methods (agents, scaling, history, detached results,
 * the dashboard, closing). cluster.ts adds the calls that run code. Not exported from the package:
 * `Cluster` is the one public type.
 */
export abstract class ClusterCore {
  protected closing: Promise<void> | null = null;
  protected latestAgents: AgentInfo[] = [];
  protected readonly values: Values;
  protected readonly objects: ClusterObjects;
  protected readonly caller: TaskCaller;
  protected readonly actorsOf: ClusterActors;
  private readonly hub = new ClusterEventsHub();
  private readonly flushLogs: () => void;

  protected constructor(
    protected readonly transport: Transport,
    onLog: ((entry: LogEntry) => void) | null,
  ) {
    this.objects = new ClusterObjects(transport, (bytes, what) => this.values.unpack(bytes, what), () => this.closing !== null);
    this.values = new Values(transport.info.maxFrameBytes, (ref) => this.actorsOf.revive(ref), (ref) => this.objects.refs.revive(ref));
    this.actorsOf = new ClusterActors(transport, this.values);
    this.caller = new TaskCaller(transport, this.values, () => this.closing !== null);
    // Identical lines of many tasks are printed once, in both modes (unless the program takes them).
    const dedup = onLog ? null : dedupLogs(printLog);
    const sink = onLog ?? dedup!.write;
    this.flushLogs = dedup?.flush ?? (() => undefined);
    transport.setEvents({
      agents: (agents) => {
        this.latestAgents = agents;
        this.hub.emit('agents', agents);
      },
      actor: (info) => {
        this.actorsOf.update(info);
        this.hub.emit('actor', info);
      },
      log: (entry) => {
        try {
          sink(entry);
        } catch {
          // A throwing sink must not break the cluster.
        }
        this.hub.emit('log', entry);
      },
      lost: () => this.actorsOf.lostAll(),
    });
  }


  /** This cluster's id: the coordinator's (embedded), or this client's at the service (connected). */
  get id(): string {
    return this.transport.info.id;
  }

  /** `embedded` (Cluster.start) or `connected` (Cluster.connect). */
  get mode(): 'embedded' | 'connected' {
    return this.transport.info.mode;
  }

  /** Where the agents run: local, ssh, slurm, pbs, sge, kubernetes. */
  get backend(): string {
    return this.transport.info.backend;
  }

  /** The agents connected now. */
  async agents(): Promise<AgentInfo[]> {
    return this.refreshAgents();
  }

  /** Agents launched and not connected yet, with their job (queued in the scheduler, or starting). */
  async pendingAgents(): Promise<PendingAgent[]> {
    this.assertOpen();
    return this.transport.call('pendingAgents');
  }

  /**
   * Adds or removes agents (of a shared pool: every program sees it); removed ones finish their
   * tasks first. With several pools, `{ pool }` says which (else UnknownPoolError). On an adaptive
   * pool it turns adaptive scaling off: the size asked for is kept until adapt() is called again.
   */
  async scale(n: number, options?: ScaleOptions): Promise<void> {
    this.assertOpen();
    const { pool } = resolveScaleOptions(n, options);
    await this.transport.call('scale', n, pool === undefined ? {} : { pool });
    await this.refreshAgents();
  }

  /**
   * Adaptive scaling of a pool (`pool` may be omitted with one pool): it grows while work it can
   * run waits (by the waiting tasks over one agent's slots, up to `max`, never again while agents
   * it launched are pending), and stops agents idle for `idleMs` (default 60 s) down to `min`,
   * never an agent with running work, actors or stored values, nor within `idleMs` of a grow.
   * Calling it again replaces the settings; `scale(n)` turns it off. Resolves with the settings in force.
   */
  async adapt(options: AdaptOptions): Promise<AdaptOptions & { pool: string; idleMs: number }> {
    this.assertOpen();
    const o = resolveAdaptOptions(options);
    return this.transport.call('adapt', o);
  }

  /**
   * Recent settled tasks of every program on this pool, newest first: function or map label,
   * client, agent, times, outcome and error. The engine keeps a bounded record (`historyEntries`,
   * `historyBytes`); `total` and `evicted` say how much it no longer holds.
   */
  async history(options?: HistoryOptions): Promise<TaskHistory> {
    const query = historyQuery(options);
    this.assertOpen();
    return this.transport.call('history', query);
  }

  /**
   * What a detached call (`{ detach: true }`, started by any client of this service) would have
   * answered, once it has ended: a map's or stream's results in input order, a call's value
   * (`collect<number[]>(id)`, `collect<string>(id)`); its failure rejects. RESULTS_EXPIRED once
   * the service dropped the results (past its `detachedBytes`), or for an id it does not know.
   */
  async collect<T = unknown>(id: string): Promise<T> {
    this.assertOpen();
    assertCallId(id);
    return collectedValue(await this.transport.call('collect', id), this.values, id) as T;
  }

  /**
   * The results of a detached call as they settle, `{ index, value }` in completion order (a
   * call's one value has index 0): live while it runs, from the service's disk once it has ended.
   * Its failure is thrown after the results that came before it; RESULTS_EXPIRED as for collect.
   */
  collectStream<R = unknown>(id: string): AsyncGenerator<StreamResult<R>> {
    this.assertOpen();
    assertCallId(id);
    return collectStream<R>(this.transport, this.values, id);
  }

  /** The detached calls of this service: id, kind, label, client, state, tasks settled, bytes kept. */
  async detachedCalls(): Promise<DetachedRow[]> {
    this.assertOpen();
    return this.transport.call('detachedList');
  }

  /**
   * The web dashboard of this pool (option `dashboard`; a service always has one): a fresh
   * one-time `loginUrl` (open it in a browser: it sets a session cookie and is spent), the
   * `metricsUrl` and the `metricsToken` Prometheus presents. null when there is no dashboard.
   */
  async dashboard(): Promise<DashboardAccess | null> {
    this.assertOpen();
    return this.transport.call('dashboard');
  }

  /** Listens to `agents` (the list, when it changes), `actor` (one changed) or `log` (a line of a task's output). */
  on<E extends keyof ClusterEvents>(event: E, listener: ClusterEvents[E]): this {
    this.hub.on(event, listener);
    return this;
  }

  off<E extends keyof ClusterEvents>(event: E, listener: ClusterEvents[E]): this {
    this.hub.off(event, listener);
    return this;
  }

  /**
   * Embedded: stops every agent and job (queued tasks fail with CLUSTER_CLOSED). Connected:
   * detaches (this client's tasks stop, its unnamed actors are killed; the pool stays). Idempotent.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.transport.close();
      } finally {
        this.flushLogs();
        this.actorsOf.closeAll();
        forgetOnSignals(this);
      }
    })();
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  protected assertOpen(): void {
    if (this.closing) throw new ClusterClosedError(this.mode === 'connected' ? 'this client was closed' : 'the cluster is closed');
  }

  protected async refreshAgents(): Promise<AgentInfo[]> {
    this.assertOpen();
    this.latestAgents = await this.transport.call('agents');
    return this.latestAgents;
  }

  protected totalSlots(): number {
    let n = 0;
    for (const a of this.latestAgents) n += a.slots;
    return n;
  }
}
