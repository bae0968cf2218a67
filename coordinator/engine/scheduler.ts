import type { Done, Failed } from '../../protocol/agent-messages.js';
import type { Resources } from '../../protocol/resources.js';
import type { ClustrixError } from '../../protocol/errors.js';
import { AgentLostError, UnknownPoolError } from '../errors/errors.js';
import { withCpus } from './fit.js';
import { Lanes, type Lane } from './lanes.js';
import { inlineRoom, load, parkRoom, taskMessage, unload, workerRoom } from './link-load.js';
import { parkable, withdrawAfter } from './park.js';
import { PinnedTasks, type PinnedDispatch } from './pinned-tasks.js';
import type { ParkHooks, ParkingScheduler } from './pipelined-deps.js';
import type { AgentLink } from './link.js';
import { Placement } from './placement.js';
import { settleTask, type TaskRecord } from './task.js';
import { failureError } from './task-failure.js';

export interface SchedulerOptions {
  /** Upper bound on tasks queued on one agent per slot beyond the running one. */
  maxPipelinePerSlot: number;
  warn: (message: string) => void;
  /** Whether a pool may get agents it does not have yet (launched, replacing, adaptive). @default every pool may */
  growable?: (pool: string) => boolean;
}

/** How long agents' pipelines stay bounded by time after two share-holders last competed, ms. */
const CONTENDED_MS = 1_000;

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
export class Scheduler implements ParkingScheduler {
  private readonly lanes: Lanes;
  private closedWith: ClustrixError | null = null;
  private readonly pinned = new PinnedTasks();
  private readonly links = new Map<string, AgentLink>();
  private dispatchQueued = false;
  private warnedActorsHoldAll = false;
  private readonly idleWaiters: (() => void)[] = [];
  private runningCount = 0;
  private readonly placement: Placement;
  /** When two share-holders last had work at once (performance.now() ms), and whether that is recent. */
  private contendedAt = -Infinity;
  private bounded = false;
  private parkHooks: ParkHooks | null = null;
  /** Date.now() of the dispatch under way, 0 outside one: one clock read for every task it sends. */
  private dispatchedAt = 0;

  constructor(private readonly options: SchedulerOptions) {
    this.lanes = new Lanes({ worker: (l) => this.capacity(l), inline: inlineRoom });
    this.placement = new Placement(this.links, this.lanes, options.growable ?? (() => true));
  }

  /** Where tasks with ref arguments wait, and are parked from (pipelined-deps.ts). */
  setParkHooks(hooks: ParkHooks): void {
    this.parkHooks = hooks;
  }

  /** Sends `task` parked to `link` when the rules of park.ts allow; it counts as running for its share-holder from now. */
  park(task: TaskRecord, link: AgentLink): boolean {
    const lane = this.lanes.of(task);
    if (!parkable(task, link, lane) || this.links.get(link.id) !== link || parkRoom(link, this.options.maxPipelinePerSlot, this.bounded) <= 0) return false;
    task.parked = true;
    lane.queue.started(task);
    // Not urgent: it waits on the agent anyway, so it goes in the loop turn's frame.
    this.start(link, task, lane.queue.runningOf(task) === 1 || task.priority > 0, false);
    this.lanes.update(link);
    return true;
  }

  poke(): void {
    this.scheduleDispatch();
  }

  /** The cluster's pools, by name (once, before agents connect): tasks may name one (`pool`). */
  setPools(names: readonly string[]): void {
    this.lanes.setPools(names);
  }

  /** Tasks waiting for an agent (a broadcast's copies, which wait for theirs, are not counted). */
  get queued(): number {
    return this.lanes.waiting();
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
    return this.placement.demandFor(pool);
  }

  submit(task: TaskRecord): void {
    if (task.pinned !== null) {
      const link = this.links.get(task.pinned);
      if (!link || link.state === 'closed') {
        settleTask(task, { ok: false, error: new AgentLostError(`agent ${task.pinned} is gone`, task.pinned) });
        return;
      }
      this.pinned.push(task);
    } else {
      if (task.pool && !this.lanes.known(task.pool)) {
        settleTask(task, { ok: false, error: new UnknownPoolError(task.pool, this.lanes.pools) });
        return;
      }
      // Plain tasks fit any agent: only check them when there is none.
      const unsatisfiable = (task.resources || task.pool || this.links.size === 0) && this.placement.errorOf(task);
      if (unsatisfiable) {
        settleTask(task, { ok: false, error: unsatisfiable });
        return;
      }
      this.lanes.of(task).queue.push(task);
    }
    this.scheduleDispatch();
  }

  addLink(link: AgentLink): void {
    this.links.set(link.id, link);
    this.placement.agentsChanged();
    this.linkChanged(link);
    // The first agent of a pool that may have grown for them: work it cannot run, no pool can.
    for (const [task, error] of this.placement.unplaceable()) settleTask(task, { ok: false, error });
  }

  /**
   * Whether work asking for `asked` (cpus included) could run in `pool` (null: any pool): an agent
   * has that much, or a pool without agents may get some. Actors are placed by the same rule.
   */
  couldPlace(asked: Resources, pool: string | null): boolean {
    return this.placement.errorFor(asked, pool) === null;
  }

  /** Something that sizes the link's room changed (its state, the slots actors hold). */
  linkChanged(link: AgentLink): void {
    if (!this.links.has(link.id)) return;
    this.lanes.update(link);
    this.scheduleDispatch();
  }

  /** The agent is gone: its tasks run elsewhere while their loss budget lasts. */
  removeLink(link: AgentLink, reason: string): void {
    this.links.delete(link.id);
    this.placement.agentsChanged();
    this.lanes.delete(link);
    const requeue: TaskRecord[] = [];
    const unparked: TaskRecord[] = [];
    for (const task of link.inflight.values()) {
      const wasParked = task.parked === true;
      task.link = null;
      task.parked = false;
      task.withdrawing = false;
      this.runningCount--;
      if (task.pinned === null) this.lanes.of(task).queue.finished(task, wasParked);
      if (task.settled) continue;
      if (this.closedWith) {
        settleTask(task, { ok: false, error: this.closedWith });
      } else if (task.pinned === null && task.lossRetriesLeft > 0) {
        task.lossRetriesLeft--;
        (wasParked ? unparked : requeue).push(task);
      } else {
        settleTask(task, { ok: false, error: new AgentLostError(`task ${task.id} was running on agent ${link.id}, which was lost: ${reason}`, link.id) });
      }
    }
    link.inflight.clear();
    link.inlineInflight = 0;
    link.parkedInflight = 0;
    // A parked task may have started there: like a running one it ran at most once, and waits
    // again for its refs, once the directory has heard of the loss (lineage makes them again).
    if (unparked.length > 0) queueMicrotask(() => unparked.forEach((t) => this.parkHooks?.unparked(t)));
    for (const task of this.pinned.takeAgent(link.id)) {
      settleTask(task, { ok: false, error: new AgentLostError(`agent ${link.id} was lost before it ran task ${task.id}: ${reason}`, link.id) });
    }
    this.lanes.requeue(requeue);
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
    link.completed();
    this.lanes.freed(link);
    settleTask(task, { ok: true, value: msg.value, agentId: link.id, refs: msg.refs });
    this.scheduleDispatch();
  }

  onFailed(link: AgentLink, msg: Failed): void {
    const wasParked = link.inflight.get(msg.id)?.parked === true;
    const task = this.take(link, msg.id);
    if (!task) return;
    this.lanes.freed(link);
    this.scheduleDispatch();
    if (task.settled) return;
    if (msg.kind === 'exception' && task.exceptionRetriesLeft > 0) {
      task.exceptionRetriesLeft--;
      // Its value will not land there now: what is parked there for it must not wait.
      if (task.keep !== null) withdrawAfter(link, task.keep);
      if (wasParked) this.parkHooks?.unparked(task);
      else if (task.pinned === null) this.lanes.of(task).queue.unshiftAll([task]);
      else this.pinned.unshift(task);
      return;
    }
    settleTask(task, { ok: false, error: failureError(task, link.id, msg) });
  }

  /** The agent dropped a parked task unrun (it was withdrawn): it waits for its refs again. */
  onWithdrawn(link: AgentLink, id: string): void {
    const task = this.take(link, id);
    if (!task) return;
    this.lanes.update(link);
    this.scheduleDispatch();
    if (!task.settled) this.parkHooks?.unparked(task);
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
      const lane = this.lanes.of(task);
      if (!lane.blocked.delete(task)) lane.queue.forget(task);
    } else {
      this.pinned.forget(task);
    }
    settleTask(task, { ok: false, error });
    this.scheduleDispatch();
  }

  /**
   * The cluster is closing: queued tasks fail now, running ones fail when their agents go (they
   * are not re-queued any more).
   */
  close(error: ClustrixError): void {
    this.closedWith = error;
    for (const task of this.lanes.drain(this.lanes.all())) settleTask(task, { ok: false, error });
    for (const task of this.pinned.takeAll()) settleTask(task, { ok: false, error });
  }

  /**
   * Fails every queued task with `error` (no agent came back for them); running ones and later
   * submissions are untouched.
   */
  failQueued(error: ClustrixError): void {
    for (const task of this.lanes.drain(this.lanes.all())) settleTask(task, { ok: false, error });
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
    for (const task of this.lanes.drain(lanes)) settleTask(task, { ok: false, error });
    this.scheduleDispatch();
  }

  private scheduleDispatch(): void {
    if (this.dispatchQueued) return;
    this.dispatchQueued = true;
    queueMicrotask(this.dispatch);
  }

  private take(link: AgentLink, id: string): TaskRecord | undefined {
    const task = link.inflight.take(id);
    if (!task) return undefined;
    const parked = task.parked === true;
    unload(link, task);
    this.runningCount--;
    if (task.pinned === null) this.lanes.of(task).queue.finished(task, parked);
    return task;
  }

  private capacity(link: AgentLink): number {
    return workerRoom(link, this.options.maxPipelinePerSlot, this.bounded);
  }

  private readonly dispatch = (): void => {
    this.dispatchQueued = false;
    this.dispatchedAt = Date.now();
    const now = performance.now();
    for (const lane of this.lanes.all()) if (lane.queue.contending > 1) this.contendedAt = now;
    this.bounded = now - this.contendedAt < CONTENDED_MS;
    this.pinned.dispatch(this.links, this.pinnedHooks);
    for (const lane of this.lanes.all()) this.fill(lane);
    this.parkHooks?.dispatched();
    if (!this.warnedActorsHoldAll && this.placement.actorsHoldAll(this.running)) {
      this.warnedActorsHoldAll = true;
      this.options.warn('every slot of every agent is held by an actor: tasks wait until an actor is killed or agents are added (cluster.scale)');
    }
    if (this.idleWaiters.length > 0 && this.queued === 0 && this.running === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
    this.dispatchedAt = 0;
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
      this.lanes.update(link);
    }
    // A link's share of all sent or waiting: the front link (whose tasks came back last) takes tasks
    // in a row while it holds less. The split stays even, a frame's tasks are neighbours in memory,
    // and a refill leaves as one frame (round robin made a frame per task at 2,048 links).
    const share = Math.floor((this.runningCount + lane.queue.length) / Math.max(1, this.links.size));
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
      lane.open.took(link, link.inflight.size < share);
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
    return this.placement.firstFit(task, withCpus(task.resources));
  }

  private readonly pinnedHooks: PinnedDispatch = {
    capacity: (link) => this.capacity(link),
    start: (link, task) => this.start(link, task),
    served: (link) => this.lanes.update(link),
  };

  private start(link: AgentLink, task: TaskRecord, express = false, urgent = express): void {
    load(link, task, this.dispatchedAt || Date.now());
    this.runningCount++;
    link.send(taskMessage(task, link.ensureCode(task.code, urgent), express), urgent);
    this.parkHooks?.started(task, link);
  }
}

