import type { Resources } from '../../protocol/resources.js';
import type { ClustrixError } from '../errors/errors.js';
import { fits, fitsAmounts, placementError, withCpus, type PoolShape } from './fit.js';
import type { Lane, Lanes } from './lanes.js';
import type { AgentLink } from './link.js';
import type { TaskRecord } from './task.js';

/** One pool's connected agents and the most of each resource one of them has. */
interface Shape {
  agents: number;
  largest: Resources;
}

/**
 * Where work that asked for resources (or named a pool) can go: whether any pool could ever run it,
 * how much waiting work a pool could take (adaptive scaling's demand), and the agent it fits now.
 * Pool shapes are computed once per change of the agent set, not per task.
 */
export class Placement {
  private shapes: Map<string, Shape> | null = null;

  constructor(
    private readonly links: ReadonlyMap<string, AgentLink>,
    private readonly lanes: Lanes,
    private readonly growable: (pool: string) => boolean,
  ) {}

  /** An agent came or went: shapes are recomputed when next asked. */
  agentsChanged(): void {
    this.shapes = null;
  }

  /** Where `task` could run: null, or the error saying no pool considered can. */
  errorOf(task: TaskRecord): ClustrixError | null {
    return this.errorFor(withCpus(task.resources ?? {}), task.pool ?? null);
  }

  /** Where work asking for `asked` (cpus included) could run in `pool` (null: any): null, or why not. */
  errorFor(asked: Resources, pool: string | null): ClustrixError | null {
    const names = pool ? [pool] : this.poolNames();
    const pools: PoolShape[] = names.map((name) => {
      const shape = this.shapeOf(name);
      return { name, agents: shape?.agents ?? 0, largest: shape?.largest ?? null, growable: this.growable(name) };
    });
    return placementError(asked, pools);
  }

  /**
   * Waiting tasks `pool` could run: those that named it and those for any agent; set-aside ones
   * (they asked for resources) only when its agents, if it has some, have that much.
   */
  demandFor(pool: string): number {
    const largest = this.shapeOf(pool)?.largest;
    let tasks = 0;
    const lanes: Lane[] = [...this.lanes.own(pool), ...this.lanes.anyLanes()];
    for (const lane of lanes) {
      tasks += lane.queue.length;
      for (const task of lane.blocked) if (!largest || fitsAmounts(withCpus(task.resources ?? {}), largest)) tasks++;
    }
    return tasks;
  }

  /** Set-aside tasks no pool can run any more (the agents came and are too small), removed, with why. */
  unplaceable(): [TaskRecord, ClustrixError][] {
    const out: [TaskRecord, ClustrixError][] = [];
    for (const lane of this.lanes.all()) {
      for (const task of lane.blocked) {
        const error = this.errorOf(task);
        if (!error) continue;
        lane.blocked.delete(task);
        out.push([task, error]);
      }
    }
    return out;
  }

  /** Tasks wait for any agent, none has room, nothing runs, and actors hold every slot there is. */
  actorsHoldAll(running: number): boolean {
    const any = this.lanes.any.worker;
    if (any.queue.length === 0 || any.open.size > 0 || running > 0 || this.links.size === 0) return false;
    return ![...this.links.values()].some((l) => l.state === 'ready' && l.slots > l.actorSlots);
  }

  /** Asking for resources is rarer and not pipelined: the first agent where it fits now. */
  firstFit(task: TaskRecord, asked: Resources): AgentLink | undefined {
    for (const link of this.links.values()) {
      if (link.state === 'ready' && (!task.pool || link.pool === task.pool) && fits(link, asked)) return link;
    }
    return undefined;
  }

  private poolNames(): string[] {
    if (this.lanes.pools.length > 0) return [...this.lanes.pools];
    return [...new Set([...this.links.values()].map((l) => l.pool))];
  }

  private shapeOf(pool: string): Shape | undefined {
    if (!this.shapes) {
      this.shapes = new Map();
      for (const link of this.links.values()) {
        let shape = this.shapes.get(link.pool);
        if (!shape) this.shapes.set(link.pool, (shape = { agents: 0, largest: {} }));
        shape.agents++;
        for (const [name, amount] of Object.entries(link.resources)) shape.largest[name] = Math.max(shape.largest[name] ?? 0, amount);
      }
    }
    return this.shapes.get(pool);
  }
}
