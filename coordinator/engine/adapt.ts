import type { AdaptSettings } from '../config/options.js';
import type { Logger } from '../util/logger.js';
import type { AgentLink } from './link.js';

/** What adaptive scaling sees of its pool and does to it. */
export interface AdaptTarget {
  readonly name: string;
  /** Agents connected and taking work. */
  ready(): AgentLink[];
  /** Agents launched and not connected yet (jobs queued in a scheduler, processes starting). */
  pending(): number;
  /** The size the pool keeps (ready + pending + lost ones being replaced). */
  wanted(): number;
  /** Tasks (and actors) waiting that this pool's agents could run. */
  demand(): number;
  slotsPerAgent(): number;
  /** The agent holds actors or stored values: stopping it would lose them. */
  holdsState(link: AgentLink): boolean;
  /** Launches `n` more agents; resolves once they connected (rejects if they did not). */
  grow(n: number): Promise<void>;
  /** Stops these idle agents. */
  remove(links: readonly AgentLink[]): Promise<void>;
}

/** Longest pause between two looks at the pool, ms (shorter for a short idleMs). */
const MAX_TICK_MS = 250;

/**
 * Adaptive scaling of one pool, between `min` and `max` agents:
 * - grows while work waits that the pool can run, by the waiting tasks over the slots of one
 *   agent (capped at max), counting agents already launched: while a grow's agents are pending
 *   (a job queued in a scheduler), it does not grow again, so it never over-submits;
 * - stops agents idle for `idleMs` (no task ran or ended on them since), down to min; never an
 *   agent with work, actors or stored values; and not within `idleMs` of its last grow, so a
 *   bursty load does not make it launch and cancel in a loop.
 */
export class Adapter {
  private timer: NodeJS.Timeout | null = null;
  private lastGrowAt = Number.NEGATIVE_INFINITY;
  /** A grow or a shrink is under way: the next waits for it. */
  private busy = false;

  constructor(
    private readonly pool: AdaptTarget,
    readonly settings: AdaptSettings,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  start(): void {
    if (this.timer) return;
    const every = Math.max(5, Math.min(MAX_TICK_MS, Math.floor(this.settings.idleMs / 4)));
    this.timer = setInterval(() => this.tick(), every);
    this.timer.unref();
    this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One look at the pool: grow, shrink, or leave it. */
  tick(): void {
    if (this.busy || this.timer === null) return;
    const { min, max, idleMs } = this.settings;
    const ready = this.pool.ready();
    const pending = this.pool.pending();
    // Lost agents the pool is replacing count as had: it brings them back by itself.
    const have = Math.max(ready.length + pending, this.pool.wanted());
    if (have < min) return this.grow(min - have, `below min ${min}`);
    if (have > max) return this.shrink(ready, have - max, 0);
    const demand = this.pool.demand();
    if (demand > 0) {
      if (pending > 0 || have >= max) return;
      const want = Math.ceil(demand / Math.max(1, this.pool.slotsPerAgent()));
      return this.grow(Math.min(want, max - have), `${demand} task${demand === 1 ? '' : 's'} waiting`);
    }
    if (have <= min || this.now() - this.lastGrowAt < idleMs) return;
    this.shrink(ready, have - min, idleMs);
  }

  private grow(n: number, why: string): void {
    if (n <= 0) return;
    this.lastGrowAt = this.now();
    this.log.info(`pool ${this.pool.name}: adding ${n} agent${n === 1 ? '' : 's'} (${why})`);
    this.run(this.pool.grow(n), 'grow');
  }

  /** Stops up to `count` agents idle for `idleMs` at least, the longest idle first. */
  private shrink(ready: readonly AgentLink[], count: number, idleMs: number): void {
    const now = this.now();
    const idle = ready
      .filter((l) => l.inflight.size === 0 && l.actorSlots === 0 && now - l.lastActiveAt >= idleMs && !this.pool.holdsState(l))
      .sort((a, b) => a.lastActiveAt - b.lastActiveAt)
      .slice(0, count);
    if (idle.length === 0) return;
    this.log.info(`pool ${this.pool.name}: stopping ${idle.length} idle agent${idle.length === 1 ? '' : 's'} (${idle.map((l) => l.id).join(', ')})`);
    this.run(this.pool.remove(idle), 'shrink');
  }

  private run(step: Promise<void>, what: string): void {
    this.busy = true;
    step
      .catch((err: unknown) => this.log.warn(`pool ${this.pool.name}: adaptive ${what} failed: ${(err as Error).message}`))
      .finally(() => {
        this.busy = false;
      });
  }
}
