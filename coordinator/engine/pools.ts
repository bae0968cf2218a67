import type { PendingAgent } from '../../protocol/rows.js';
import { createBackend, type Backend, type BackendContext } from '../backends/backends.js';
import type { PoolEnvironment } from '../code/agent-environment.js';
import type { AdaptSettings, ResolvedClusterOptions, ResolvedPoolOptions } from '../config/options.js';
import { ConfigError, UnknownPoolError, type ClustrixError } from '../errors/errors.js';
import type { Logger } from '../util/logger.js';
import { Adapter } from './adapt.js';
import type { AgentLink } from './link.js';
import { AgentPool } from './pool.js';
import type { Scheduler } from './scheduler.js';

/** One pool: its launcher (backend), its size keeper, and its adaptive scaling when on. */
interface Entry {
  readonly name: string;
  readonly options: ResolvedPoolOptions;
  readonly backend: Backend;
  readonly pool: AgentPool;
  /** Agent ids it launches start with this, then `-<n>`. */
  readonly idPrefix: string;
  adapter: Adapter | null;
}

/** What the pools see of the rest of the engine. */
export interface PoolsHost {
  readonly scheduler: Scheduler;
  /** An agent is leaving on purpose (scaled down, retiring): no new work for it. */
  onRemove(link: AgentLink): void;
  /**
   * Actors waiting to be constructed and calls waiting for their actor: all, or those that asked
   * for `pool` (null: for none), and of those the ones whose cpus `fits`.
   */
  actorsWaiting(pool?: string | null, fits?: (cpus: number) => boolean): number;
  failActors(error: ClustrixError): void;
  /** Whether the agent holds what must not be lost with it (actors, stored values). */
  holdsState(link: AgentLink): boolean;
}

/**
 * The cluster's pools (one, 'default', unless `pools` is set): each its own launcher, size,
 * replacement and adaptive scaling, all dialling the one agent server. Agents belong to the pool
 * whose id prefix they carry; `links` is every pool's, for the engine.
 */
export class Pools {
  readonly links = new Map<string, AgentLink>();
  private readonly entries = new Map<string, Entry>();

  private constructor(private readonly host: PoolsHost, private readonly log: Logger) {}

  /** Builds every pool's backend (none is started yet); a failure releases those built. */
  static async create(options: ResolvedClusterOptions, context: BackendContext, host: PoolsHost, log: Logger): Promise<Pools> {
    const pools = new Pools(host, log);
    const several = options.pools.length > 1;
    try {
      for (const [i, { name, options: o }] of options.pools.entries()) {
        // Each pool's jobs and files are apart (a job directory per cluster id on a login node).
        const backend = await createBackend(o, several ? { ...context, clusterId: `${context.clusterId}-p${i}` } : context);
        const idPrefix = several ? `${context.clusterId}-p${i}` : `${context.clusterId}-a`;
        const pool = new AgentPool(
          backend.launcher,
          backend.connect,
          { startTimeoutMs: o.startTimeoutMs, slotsFor: backend.slotsFor, replaceLostAgents: o.replaceLostAgents, recoveryTimeoutMs: o.recoveryTimeoutMs, idPrefix },
          log,
          (link) => host.onRemove(link),
          {
            waiting: () => pools.waitingFor(name),
            fail: (error) => pools.failWaiting(name, error),
          },
        );
        const entry: Entry = { name, options: o, backend, pool, idPrefix, adapter: null };
        pools.entries.set(name, entry);
      }
    } catch (err) {
      await pools.release();
      throw err;
    }
    host.scheduler.setPools(pools.names);
    return pools;
  }

  get names(): string[] {
    return [...this.entries.keys()];
  }

  /** Brings every pool to its starting size (and starts the adaptive ones); resolves once their agents connected. */
  async start(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.pool.scale(e.options.agents)));
    for (const e of this.entries.values()) if (e.options.adapt) this.adapt(e.name, e.options.adapt);
  }

  /** Where each pool's agents run: module() makes its packages loadable in every one. */
  get environments(): PoolEnvironment[] {
    return [...this.entries.values()].map((e) => ({ pool: e.name, environment: e.backend.environment }));
  }

  /** The pool an agent belongs to: the one whose ids it carries (agents started by hand join the first). */
  poolOf(agentId: string): string {
    for (const e of this.entries.values()) if (agentId.startsWith(`${e.idPrefix}-`)) return e.name;
    return this.names[0]!;
  }

  jobIdOf(agentId: string): string | undefined {
    return this.entry(this.poolOf(agentId)).pool.jobIdOf(agentId);
  }

  pendingAgents(): PendingAgent[] {
    return [...this.entries.values()].flatMap((e) => e.pool.pendingAgents().map((p) => ({ ...p, pool: e.name })));
  }

  /** An agent authenticated: its pool takes it (or turns it away). */
  attach(link: AgentLink): boolean {
    const name = this.poolOf(link.id);
    link.pool = name;
    if (!this.entry(name).pool.attach(link)) return false;
    this.links.set(link.id, link);
    return true;
  }

  detach(link: AgentLink, reason: string): void {
    if (this.links.get(link.id) === link) this.links.delete(link.id);
    this.entry(link.pool).pool.detach(link, reason);
  }

  retire(link: AgentLink, reason: string): Promise<void> {
    return this.entry(link.pool).pool.retire(link, reason);
  }

  /**
   * Sets a pool's size (`pool` may be omitted with one pool). An adaptive pool stops adapting:
   * the size asked for is kept.
   */
  async scale(n: number, pool: string | null): Promise<void> {
    const entry = this.choose(pool, 'scale(n)');
    if (entry.adapter) {
      entry.adapter.stop();
      entry.adapter = null;
      this.log.info(`pool ${entry.name}: scale(${n}) turns adaptive scaling off`);
    }
    await entry.pool.scale(n);
  }

  /** Turns adaptive scaling on for a pool (or changes its bounds); returns the settings in force. */
  adapt(pool: string | null, settings: AdaptSettings): AdaptSettings & { pool: string } {
    const entry = this.choose(pool, 'adapt()');
    if (settings.min > settings.max) throw new ConfigError(`adapt: min (${settings.min}) must be at most max (${settings.max})`);
    entry.adapter?.stop();
    const scheduler = this.host.scheduler;
    entry.adapter = new Adapter(
      {
        name: entry.name,
        ready: () => entry.pool.readyLinks(),
        pending: () => entry.pool.pendingCount,
        wanted: () => entry.pool.size,
        // Actors waiting for a place count like tasks: those that named this pool, and those that
        // named none and would fit one of its agents (each pool that could take them grows, as for tasks).
        demand: () => scheduler.demandFor(entry.name) + this.host.actorsWaiting(entry.name) + this.host.actorsWaiting(null, (cpus) => this.couldHold(entry, cpus)),
        slotsPerAgent: () => this.slotsPerAgent(entry),
        holdsState: (link) => this.host.holdsState(link),
        grow: (n) => entry.pool.scale(entry.pool.size + n),
        remove: (links) => entry.pool.remove(links),
      },
      settings,
      this.log,
    );
    entry.adapter.start();
    return { pool: entry.name, ...settings };
  }

  /** Whether the pool may get agents it lacks: some are launched or wanted, or it adapts below its max. */
  growable(pool: string): boolean {
    const e = this.entries.get(pool);
    if (!e) return false;
    const connected = e.pool.readyLinks().length;
    return e.pool.size > connected || e.pool.pendingCount > 0 || (e.adapter !== null && e.adapter.settings.max > connected);
  }

  async close(): Promise<void> {
    for (const e of this.entries.values()) e.adapter?.stop();
    await Promise.all([...this.entries.values()].map((e) => e.pool.close()));
  }

  /** Releases SSH connections and tunnels, after the pools cancelled their jobs. */
  async release(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => e.backend.release()));
  }

  /** Waiting work only this pool can serve: what named it, and everything once no other pool has an agent. */
  private waitingFor(name: string): number {
    const scheduler = this.host.scheduler;
    const alone = !this.othersReady(name);
    return scheduler.waitingFor(name) + (alone ? scheduler.waitingForAny() + this.host.actorsWaiting() : 0);
  }

  private failWaiting(name: string, error: ClustrixError): void {
    const alone = !this.othersReady(name);
    this.host.scheduler.failQueuedFor(name, alone, error);
    if (alone) this.host.failActors(error);
  }

  private othersReady(name: string): boolean {
    for (const e of this.entries.values()) if (e.name !== name && e.pool.readyLinks().length > 0) return true;
    return false;
  }

  /**
   * Whether an agent of this pool has `cpus` slots; with none connected, yes (its agents-to-be are
   * not known: as for tasks, it grows, and an actor its first agent cannot hold fails then).
   */
  private couldHold(entry: Entry, cpus: number): boolean {
    const ready = entry.pool.readyLinks();
    return ready.length === 0 || ready.some((l) => l.slots >= cpus);
  }

  private slotsPerAgent(entry: Entry): number {
    const ready = entry.pool.readyLinks();
    if (ready.length > 0) return ready.reduce((n, l) => n + l.slots, 0) / ready.length;
    return entry.options.slots[0] ?? entry.options.resources?.cpusPerTask ?? 1;
  }

  private choose(pool: string | null, what: string): Entry {
    if (pool === null) {
      if (this.entries.size === 1) return [...this.entries.values()][0]!;
      throw new UnknownPoolError(null, this.names, what);
    }
    const entry = this.entries.get(pool);
    if (!entry) throw new UnknownPoolError(pool, this.names);
    return entry;
  }

  private entry(name: string): Entry {
    return this.entries.get(name) ?? [...this.entries.values()][0]!;
  }
}
