import type { Done, Failed } from '../../protocol/agent-messages.js';
import type { ClustrixError } from '../../protocol/errors.js';
import { AgentLostError, CancelledError, ClustrixError as BaseError, RemoteError, TimeoutError, UnknownPoolError, valueError } from '../errors/errors.js';
import type { AgentLink } from './link.js';
import { Lanes, type Lane } from './lanes.js';
import type { TaskRecord } from './task.js';
import type { Resources } from '../../protocol/resources.js';
import { fits, fitsAmounts, placementError, withCpus, type PoolShape } from './fit.js';

export interface SchedulerOptions {
  /** Upper bound on tasks queued on one agent per slot beyond the running one. */
  maxPipelinePerSlot: number;
  warn: (message: string) => void;
  /** Whether a pool may get agents it does not have yet (launched, replacing, adaptive). @default every pool may */
  growable?: (pool: string) => boolean;
}

/** Most tasks set aside at once; past it the lane waits for room instead of taking more. */
const MAX_BLOCKED = 1024;

/**
 * Fair share over all agents. The next free slot goes to the task of highest priority, and among
 * equal priorities to the share-holder (client or call) with the least share in use, weighted
 * (share-queue.ts). Each agent gets its slots' worth of running tasks plus a pipeline sized from
 * its measured task run time and round trip, so a warm agent never idles waiting for the next
 * frame while a newcomer waits behind at most about one round trip of queued work.
 *
 * Dispatch costs O(log holders) per task sent: links with room are kept in a set updated when
 * their load changes (open-links.ts), and the running count is counted, not summed.
 */
export class Scheduler {
  private readonly lanes: Lanes;
  private closedWith: ClustrixError | null = null;
  private readonly pinned = new Map<string, TaskRecord[]>();
  private readonly links = new Map<string, AgentLink>();
  private dispatchQueued = false;
  private warnedActorsHoldAll = false;
  private readonly idleWaiters: (() => void)[] = [];
  private runningCount = 0;
  /** Each pool's agents and the most of each resource one of them has; recomputed after agents come or go. */
  private shapes: Map<string, { agents: number; largest: Resources }> | null = null;

  constructor(private readonly options: SchedulerOptions) {
    this.lanes = new Lanes({ worker: (l) => this.capacity(l), inline: (l) => this.inlineCapacity(l) });
  }

  /** The cluster's pools, by name (once, before agents connect): tasks may name one (`pool`). */
  setPools(names: readonly string[]): void {
    this.lanes.setPools(names);
  }

  /** Tasks waiting for an agent (a broadcast's copies, which wait for theirs, are not counted). */
  get queued(): number {
    let n = 0;
    for (const lane of this.lanes.all()) n += lane.queue.length + lane.blocked.size;
    return n;
  }

  /** Tasks sent to agents and not reported yet. */
  get running(): number {
    return this.runningCount;
  }

  /** Tasks waiting that only `pool` may run. */
  waitingFor(pool: string): number {
    return this.lanes.waitingFor(pool);
  }

  /** Tasks waiting that any pool may run. */
  waitingForAny(): number {
    return this.lanes.waitingForAny();
  }

  /**
   * Waiting tasks `pool` could run: those that named it and those for any agent; set-aside ones
   * (they asked for resources) only when its agents, if it has some, have that much.
   */
  demandFor(pool: string): number {
    const largest = this.shapeOf(pool)?.largest;
    let tasks = 0;
    for (const lane of [...this.lanes.own(pool), ...this.lanes.anyLanes()]) {
      tasks += lane.queue.length;
      for (const task of lane.blocked) if (!largest || fitsAmounts(withCpus(task.resources ?? {}), largest)) tasks++;
    }
    return tasks;
  }

  submit(task: TaskRecord): void {
    if (task.pinned !== null) {
      const link = this.links.get(task.pinned);
      if (!link || link.state === 'closed') {
        this.settle(task, { ok: false, error: new AgentLostError(`agent ${task.pinned} is gone`, task.pinned) });
        return;
      }
      let list = this.pinned.get(task.pinned);
      if (!list) this.pinned.set(task.pinned, (list = []));
      list.push(task);
    } else {
      if (task.pool && !this.lanes.known(task.pool)) {
        this.settle(task, { ok: false, error: new UnknownPoolError(task.pool, this.lanes.pools) });
        return;
      }
      // Plain tasks fit any agent: only check them when there is none.
      const unsatisfiable = (task.resources || task.pool || this.links.size === 0) && this.placementError(task);
      if (unsatisfiable) {
        this.settle(task, { ok: false, error: unsatisfiable });
        return;
      }
      this.laneOf(task).queue.push(task);
    }
    this.scheduleDispatch();
  }

  addLink(link: AgentLink): void {
    this.links.set(link.id, link);
    this.shapes = null;
    this.linkChanged(link);
    // The first agent of a pool that may have grown for them: work it cannot run, no pool can.
    for (const lane of this.lanes.all()) {
      for (const task of lane.blocked) {
        const error = this.placementError(task);
        if (!error) continue;
        lane.blocked.delete(task);
        this.settle(task, { ok: false, error });
      }
    }
  }

  /**
   * Whether work asking for `asked` (cpus included) could run in `pool` (null: any pool): an agent
   * has that much, or a pool without agents may get some. Actors are placed by the same rule.
   */
  couldPlace(asked: Resources, pool: string | null): boolean {
    return this.placementErrorFor(asked, pool) === null;
  }

  /** Where `task` could run: null, or the error saying no pool considered can. */
  private placementError(task: TaskRecord): BaseError | null {
    return this.placementErrorFor(withCpus(task.resources ?? {}), task.pool ?? null);
  }

  private placementErrorFor(asked: Resources, pool: string | null): BaseError | null {
    const names = pool ? [pool] : this.poolNames();
    const growable = this.options.growable ?? (() => true);
    const pools: PoolShape[] = names.map((name) => {
      const shape = this.shapeOf(name);
      return { name, agents: shape?.agents ?? 0, largest: shape?.largest ?? null, growable: growable(name) };
    });
    return placementError(asked, pools);
  }

  private poolNames(): string[] {
    if (this.lanes.pools.length > 0) return [...this.lanes.pools];
    return [...new Set([...this.links.values()].map((l) => l.pool))];
  }

  private shapeOf(pool: string): { agents: number; largest: Resources } | undefined {
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

  /** Something that sizes the link's room changed (its state, the slots actors hold). */
  linkChanged(link: AgentLink): void {
    if (!this.links.has(link.id)) return;
    this.roomChanged(link);
    this.scheduleDispatch();
  }

  private roomChanged(link: AgentLink): void {
    this.lanes.update(link);
  }

  /** The agent is gone: its tasks run elsewhere while their loss budget lasts. */
  removeLink(link: AgentLink, reason: string): void {
    this.links.delete(link.id);
    this.shapes = null;
    this.lanes.delete(link);
    const requeue: TaskRecord[] = [];
    for (const task of link.inflight.values()) {
      task.link = null;
      this.runningCount--;
      if (task.pinned === null) this.laneOf(task).queue.finished(task);
      if (task.settled) continue;
      if (this.closedWith) {
        this.settle(task, { ok: false, error: this.closedWith });
      } else if (task.pinned === null && task.lossRetriesLeft > 0) {
        task.lossRetriesLeft--;
        requeue.push(task);
      } else {
        this.settle(task, { ok: false, error: new AgentLostError(`task ${task.id} was running on agent ${link.id}, which was lost: ${reason}`, link.id) });
      }
    }
    link.inflight.clear();
    link.inlineInflight = 0;
    for (const task of this.pinned.get(link.id) ?? []) {
      this.settle(task, { ok: false, error: new AgentLostError(`agent ${link.id} was lost before it ran task ${task.id}: ${reason}`, link.id) });
    }
    this.pinned.delete(link.id);
    const back = new Map<Lane, TaskRecord[]>();
    for (const task of requeue) {
      const lane = this.laneOf(task);
      back.set(lane, [...(back.get(lane) ?? []), task]);
    }
    for (const [lane, tasks] of back) lane.queue.unshiftAll(tasks);
    this.scheduleDispatch();
  }

  /** Stops sending new work to an agent (it finishes what it has). */
  drain(link: AgentLink): void {
    if (link.state === 'ready') link.state = 'draining';
    this.lanes.delete(link);
  }

  onDone(link: AgentLink, msg: Done): void {
    const task = this.take(link, msg.id);
    if (!task) return;
    link.tasksDone++;
    link.avgRunMs += (msg.runMs - link.avgRunMs) * 0.2;
    this.roomChanged(link);
    this.settle(task, { ok: true, value: msg.value, agentId: link.id, refs: msg.refs });
    this.scheduleDispatch();
  }

  onFailed(link: AgentLink, msg: Failed): void {
    const task = this.take(link, msg.id);
    if (!task) return;
    this.roomChanged(link);
    this.scheduleDispatch();
    if (task.settled) return;
    switch (msg.kind) {
      case 'exception':
        if (task.exceptionRetriesLeft > 0) {
          task.exceptionRetriesLeft--;
          if (task.pinned === null) this.laneOf(task).queue.unshiftAll([task]);
          else this.pinned.set(task.pinned, [task, ...(this.pinned.get(task.pinned) ?? [])]);
          return;
        }
        this.settle(task, { ok: false, error: new RemoteError(msg.error, { taskId: task.id, agentId: link.id }) });
        return;
      case 'timeout':
        this.settle(task, { ok: false, error: new TimeoutError(`task ${task.id} (${task.code.name}) on agent ${link.id}: ${msg.error.message}`, task.timeoutMs ?? 0) });
        return;
      case 'cancelled':
        this.settle(task, { ok: false, error: new CancelledError(`task ${task.id} was cancelled on agent ${link.id}`) });
        return;
      case 'setup':
      case 'actor-died':
        this.settle(task, { ok: false, error: new BaseError('TASK_SETUP_FAILED', `task ${task.id} could not start on agent ${link.id}: ${msg.error.message}`) });
        return;
      case 'value':
        this.settle(task, { ok: false, error: valueError(msg.error, `task ${task.id} (${task.code.name}) on agent ${link.id}`) });
        return;
      default: {
        const unreachable: never = msg.kind;
        throw new Error(`unhandled failure kind ${String(unreachable)}`);
      }
    }
  }

  /**
   * Settles a task with an error now; a queued task is dropped, a running one is cancelled on its
   * agent (which keeps its slot until the agent confirms).
   */
  cancel(task: TaskRecord, error: ClustrixError): void {
    if (task.settled) return;
    if (task.link) {
      task.link.send({ type: 'cancel', id: task.id });
    } else if (task.pinned === null) {
      const lane = this.laneOf(task);
      if (!lane.blocked.delete(task)) lane.queue.forget(task);
    } else {
      const list = this.pinned.get(task.pinned);
      const i = list?.indexOf(task) ?? -1;
      if (list && i >= 0) list.splice(i, 1);
    }
    this.settle(task, { ok: false, error });
    this.scheduleDispatch();
  }

  /**
   * The cluster is closing: queued tasks fail now, running ones fail when their agents go (they
   * are not re-queued any more).
   */
  close(error: ClustrixError): void {
    this.closedWith = error;
    for (const task of this.drainWaiting()) this.settle(task, { ok: false, error });
    for (const list of this.pinned.values()) for (const task of list) this.settle(task, { ok: false, error });
    this.pinned.clear();
  }

  /**
   * Fails every queued task with `error` (no agent came back for them); running ones and later
   * submissions are untouched.
   */
  failQueued(error: ClustrixError): void {
    for (const task of this.drainWaiting()) this.settle(task, { ok: false, error });
    this.scheduleDispatch();
  }

  /** Resolves when nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (this.queued === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Fails the queued tasks only `pool` may run (its agents are gone and none came back), and those
   * for any agent too when `andAny`.
   */
  failQueuedFor(pool: string, andAny: boolean, error: ClustrixError): void {
    const lanes = [...this.lanes.own(pool), ...(andAny ? this.lanes.anyLanes() : [])];
    for (const lane of lanes) for (const task of this.drainLane(lane)) this.settle(task, { ok: false, error });
    this.scheduleDispatch();
  }

  private drainWaiting(): TaskRecord[] {
    const out: TaskRecord[] = [];
    for (const lane of this.lanes.all()) out.push(...this.drainLane(lane));
    return out;
  }

  private drainLane(lane: Lane): TaskRecord[] {
    const out = [...lane.blocked, ...lane.queue.drain()];
    lane.blocked.clear();
    return out;
  }

  private settle(task: TaskRecord, outcome: Parameters<TaskRecord['deliver']>[0]): void {
    if (task.settled) return;
    task.settled = true;
    task.deliver(outcome);
  }

  private scheduleDispatch(): void {
    if (this.dispatchQueued) return;
    this.dispatchQueued = true;
    queueMicrotask(this.dispatch);
  }

  private laneOf(task: TaskRecord): Lane {
    return this.lanes.of(task);
  }

  private take(link: AgentLink, id: string): TaskRecord | undefined {
    const task = link.inflight.get(id);
    if (!task) return undefined;
    link.inflight.delete(id);
    // Idle from now (adaptive scaling measures idleness from here); busy links need no clock.
    if (link.inflight.size === 0) link.lastActiveAt = Date.now();
    this.runningCount--;
    if (task.inline) link.inlineInflight--;
    if (task.resources) {
      link.constrainedInflight--;
      for (const [name, amount] of Object.entries(withCpus(task.resources))) link.reserved[name] = (link.reserved[name] ?? 0) - amount;
    }
    task.link = null;
    if (task.pinned === null) this.laneOf(task).queue.finished(task);
    return task;
  }

  /** Inline tasks are bounded by the agent's inline concurrency (plus a little pipeline). */
  private inlineCapacity(link: AgentLink): number {
    if (link.state !== 'ready') return 0;
    return link.hello.inlineConcurrency + Math.min(link.hello.inlineConcurrency, 16) - link.inlineInflight;
  }

  private capacity(link: AgentLink): number {
    if (link.state !== 'ready') return 0;
    const slots = link.slots - link.actorSlots - (link.reserved.cpus ?? 0);
    if (slots <= 0) return 0;
    // Keep enough queued on the agent to cover one round trip at its measured task rate.
    const rtt = link.rttMs > 0 ? link.rttMs : 0.5;
    const extra = Math.ceil((slots * rtt) / Math.max(link.avgRunMs, 0.01));
    const depth = slots + Math.min(Math.max(extra, 1), slots * this.options.maxPipelinePerSlot);
    return depth - (link.inflight.size - link.inlineInflight - link.constrainedInflight);
  }

  private readonly dispatch = (): void => {
    this.dispatchQueued = false;
    for (const [linkId, list] of this.pinned) {
      const link = this.links.get(linkId);
      if (!link) continue;
      // A broadcast must reach an agent even when actors hold all of its slots.
      let free = Math.max(this.capacity(link), link.inflight.size === 0 ? 1 : 0);
      while (free-- > 0 && list.length > 0) this.start(link, list.shift()!);
      if (list.length === 0) this.pinned.delete(linkId);
      this.roomChanged(link);
    }
    for (const lane of this.lanes.all()) this.fill(lane);
    const any = this.lanes.any.worker;
    if (any.queue.length > 0 && any.open.size === 0 && this.running === 0 && this.links.size > 0 && !this.warnedActorsHoldAll) {
      const free = [...this.links.values()].some((l) => l.state === 'ready' && l.slots > l.actorSlots);
      if (!free) {
        this.warnedActorsHoldAll = true;
        this.options.warn('every slot of every agent is held by an actor: tasks wait until an actor is killed or agents are added (cluster.scale)');
      }
    }
    if (this.idleWaiters.length > 0 && this.queued === 0 && this.running === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  };

  /** Sends waiting tasks, next by fair share, while some link has room. */
  private fill(lane: Lane): void {
    // Tasks set aside for resources go first, in order, while the first of them fits somewhere.
    for (const task of lane.blocked) {
      const link = this.placeOf(task, lane);
      if (!link) break;
      lane.blocked.delete(task);
      lane.queue.started(task);
      this.start(link, task, false);
      this.roomChanged(link);
    }
    while (lane.queue.length > 0 && lane.open.size > 0) {
      const task = lane.queue.take();
      if (!task) return;
      const link = this.placeOf(task, lane);
      if (!link) {
        lane.queue.finished(task);
        if (task.resources) {
          // It waits for room without holding up the tasks behind it.
          lane.blocked.add(task);
          if (lane.blocked.size >= MAX_BLOCKED) return;
          continue;
        }
        lane.queue.unshiftAll([task]);
        return;
      }
      // A holder's only task on agents (an interactive call, a batch's first) or a raised priority
      // goes before what is queued on the agent already: it waits for no one's pipelined window.
      this.start(link, task, lane.queue.runningOf(task) === 1 || task.priority > 0);
      lane.open.took(link);
      this.lanes.tookFrom(link, lane);
    }
  }

  /**
   * The one place a task's agent is chosen: the next in turn among the links with room. A hint on
   * the task (such as where its arguments are) would be consulted here.
   */
  private placeOf(task: TaskRecord, lane: Lane): AgentLink | undefined {
    if (!task.resources) {
      // Locality: an agent holding the task's arguments' values takes it when it has room.
      const near = task.prefer?.map((id) => this.links.get(id)).find((l) => l !== undefined && lane.open.has(l));
      return near ?? lane.open.first();
    }
    // Asking for resources is rarer and not pipelined: the first agent where it fits now.
    const asked = withCpus(task.resources);
    for (const link of this.links.values()) {
      if (link.state === 'ready' && (!task.pool || link.pool === task.pool) && fits(link, asked)) return link;
    }
    return undefined;
  }

  private start(link: AgentLink, task: TaskRecord, express = false): void {
    task.link = link;
    task.startedAt ??= Date.now();
    task.lastAgent = link.id;
    link.inflight.set(task.id, task);
    this.runningCount++;
    if (task.resources) {
      link.constrainedInflight++;
      for (const [name, amount] of Object.entries(withCpus(task.resources))) link.reserved[name] = (link.reserved[name] ?? 0) + amount;
    }
    if (task.inline) link.inlineInflight++;
    const code = link.ensureCode(task.code);
    link.send({
      type: 'task',
      id: task.id,
      code,
      export: task.export,
      args: task.args,
      inline: task.inline,
      chunk: task.chunk,
      timeoutMs: task.timeoutMs,
      express,
      ...(task.resources?.gpus ? { gpus: Math.ceil(task.resources.gpus) } : {}),
      keep: task.keep,
      deps: task.deps,
    });
  }
}

