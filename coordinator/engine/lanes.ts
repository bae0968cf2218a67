import type { AgentLink } from './link.js';
import { OpenLinks } from './open-links.js';
import { ShareQueue } from './share-queue.js';
import type { TaskRecord } from './task.js';

/** Tasks that wait for one kind of capacity, and the links that have room for them now. */
export interface Lane {
  readonly queue: ShareQueue;
  readonly open: OpenLinks;
  /** Tasks that asked for resources no agent had free when their turn came, in their order. */
  readonly blocked: Set<TaskRecord>;
}

/** Worker-thread tasks and inline (event-loop) tasks wait apart: they use different capacity. */
export interface LanePair {
  readonly worker: Lane;
  readonly inline: Lane;
}

/** How much more of each kind a link takes now. */
export interface Room {
  worker(link: AgentLink): number;
  inline(link: AgentLink): number;
}

/**
 * The scheduler's waiting rooms: one pair of lanes for tasks any agent may run, and, in a cluster
 * of several pools, one pair per pool for tasks that named it (`pool: 'gpu'`), whose open links
 * are that pool's only. A pool's tasks never wait behind another pool's, and taking the next
 * task of a lane stays O(1) in the number of agents. With one pool its name means "any agent".
 */
export class Lanes {
  readonly any: LanePair;
  private readonly byPool = new Map<string, LanePair>();
  private names: readonly string[] = [];
  /** Every lane: the pools' first, then the one for any agent (a list: dispatch walks it often). */
  private every: readonly Lane[];

  constructor(private readonly room: Room) {
    this.any = this.pair(null);
    this.every = [this.any.worker, this.any.inline];
  }

  /** The cluster's pools (set once, before agents connect); empty: pools unknown (tests of the scheduler alone). */
  setPools(names: readonly string[]): void {
    this.names = names;
    if (names.length > 1) for (const name of names) this.byPool.set(name, this.pair(name));
    this.every = [...[...this.byPool.values()].flatMap((p) => [p.worker, p.inline]), this.any.worker, this.any.inline];
  }

  get pools(): readonly string[] {
    return this.names;
  }

  /** Whether `pool` names a pool of this cluster. */
  known(pool: string): boolean {
    return this.names.length === 0 || this.names.includes(pool);
  }

  /** Every lane: the pools' first, then the one for any agent. */
  all(): readonly Lane[] {
    return this.every;
  }

  of(task: TaskRecord): Lane {
    const pair = (task.pool ? this.byPool.get(task.pool) : undefined) ?? this.any;
    return task.inline ? pair.inline : pair.worker;
  }

  /** The lanes of tasks that named `pool` (none with one pool: they wait with any agent's). */
  own(pool: string): Lane[] {
    const pair = this.byPool.get(pool);
    return pair ? [pair.worker, pair.inline] : [];
  }

  /** The lanes of tasks any agent may run. */
  anyLanes(): Lane[] {
    return [this.any.worker, this.any.inline];
  }

  /** Tasks waiting that only `pool` may run (its own lanes). */
  waitingFor(pool: string): number {
    const pair = this.byPool.get(pool);
    return pair ? waiting(pair) : 0;
  }

  /** Tasks waiting that any agent may run. */
  waitingForAny(): number {
    return waiting(this.any);
  }

  /** The link's load or state changed: every lane it serves re-reads its room. */
  update(link: AgentLink): void {
    this.eachTurn(link, 'update');
  }

  /** Tasks of `link` came back: it goes to the front of every turn it has room in (OpenLinks.freed). */
  freed(link: AgentLink): void {
    this.eachTurn(link, 'freed');
  }

  /** Tells the turn of every lane `link` serves (any agent's and its pool's, worker and inline). */
  private eachTurn(link: AgentLink, change: 'update' | 'freed'): void {
    this.any.worker.open[change](link);
    this.any.inline.open[change](link);
    const pair = this.byPool.get(link.pool);
    if (!pair) return;
    pair.worker.open[change](link);
    pair.inline.open[change](link);
  }

  /**
   * `link` took a task of `lane`: the one other lane of the same kind it serves (any agent's, or
   * its pool's) re-reads its room. A task of one kind leaves the other kind's room as it was.
   */
  tookFrom(link: AgentLink, lane: Lane): void {
    const pair = this.byPool.get(link.pool);
    if (!pair) return;
    const kind = lane === this.any.worker || lane === pair.worker ? 'worker' : 'inline';
    (lane === this.any[kind] ? pair[kind] : this.any[kind]).open.update(link);
  }

  delete(link: AgentLink): void {
    for (const lane of this.all()) lane.open.delete(link);
  }

  /** Tasks waiting in every lane (queued or set aside). */
  waiting(): number {
    let n = 0;
    for (const lane of this.every) n += lane.queue.length + lane.blocked.size;
    return n;
  }

  /** Every live task waiting in `lanes`, removed. */
  drain(lanes: readonly Lane[]): TaskRecord[] {
    const out: TaskRecord[] = [];
    for (const lane of lanes) {
      out.push(...lane.blocked, ...lane.queue.drain());
      lane.blocked.clear();
    }
    return out;
  }

  /** Puts tasks back at the front of their lanes, in their order (a lost agent's work runs next). */
  requeue(tasks: readonly TaskRecord[]): void {
    const back = new Map<Lane, TaskRecord[]>();
    for (const task of tasks) {
      const lane = this.of(task);
      back.set(lane, [...(back.get(lane) ?? []), task]);
    }
    for (const [lane, list] of back) lane.queue.unshiftAll(list);
  }

  private pair(pool: string | null): LanePair {
    const lane = (room: (l: AgentLink) => number): Lane => ({
      queue: new ShareQueue(),
      open: new OpenLinks(pool === null ? room : (l) => (l.pool === pool ? room(l) : 0)),
      blocked: new Set(),
    });
    return { worker: lane((l) => this.room.worker(l)), inline: lane((l) => this.room.inline(l)) };
  }
}

function waiting(pair: LanePair): number {
  return pair.worker.queue.length + pair.worker.blocked.size + pair.inline.queue.length + pair.inline.blocked.size;
}
