import type { Done, Failed } from '../../protocol/agent-messages.js';
import type { ClustrixError } from '../../protocol/errors.js';
import { AgentLostError, CancelledError, ClustrixError as BaseError, RemoteError, TimeoutError, valueError } from '../errors/errors.js';
import type { AgentLink } from './link.js';
import { TaskQueue, type TaskRecord } from './task.js';

export interface SchedulerOptions {
  /** Upper bound on tasks queued on one agent per slot beyond the running one. */
  maxPipelinePerSlot: number;
  warn: (message: string) => void;
}

/**
 * Fair FIFO over all agents. Each agent gets its slots' worth of running tasks plus a pipeline sized
 * from its measured task run time and round trip, so a warm agent never idles waiting for the next
 * frame, and long tasks are not hoarded by one agent while another idles.
 */
export class Scheduler {
  /** Worker-thread tasks and inline (event-loop) tasks wait apart: they use different capacity. */
  private readonly queue = new TaskQueue();
  private readonly inlineQueue = new TaskQueue();
  private closedWith: ClustrixError | null = null;
  private readonly pinned = new Map<string, TaskRecord[]>();
  private readonly links = new Map<string, AgentLink>();
  private dispatchQueued = false;
  private warnedActorsHoldAll = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(private readonly options: SchedulerOptions) {}

  get queued(): number {
    return this.queue.length + this.inlineQueue.length;
  }

  get running(): number {
    let n = 0;
    for (const link of this.links.values()) n += link.inflight.size;
    return n;
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
      this.queueOf(task).push(task);
    }
    this.scheduleDispatch();
  }

  addLink(link: AgentLink): void {
    this.links.set(link.id, link);
    this.scheduleDispatch();
  }

  /** The agent is gone: its tasks run elsewhere while their loss budget lasts. */
  removeLink(link: AgentLink, reason: string): void {
    this.links.delete(link.id);
    const requeue: TaskRecord[] = [];
    for (const task of link.inflight.values()) {
      task.link = null;
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
    this.queue.unshiftAll(requeue.filter((t) => !t.inline));
    this.inlineQueue.unshiftAll(requeue.filter((t) => t.inline));
    this.scheduleDispatch();
  }

  /** Stops sending new work to an agent (it finishes what it has). */
  drain(link: AgentLink): void {
    if (link.state === 'ready') link.state = 'draining';
  }

  onDone(link: AgentLink, msg: Done): void {
    const task = this.take(link, msg.id);
    if (!task) return;
    link.tasksDone++;
    link.avgRunMs += (msg.runMs - link.avgRunMs) * 0.2;
    this.settle(task, { ok: true, value: msg.value, agentId: link.id });
    this.scheduleDispatch();
  }

  onFailed(link: AgentLink, msg: Failed): void {
    const task = this.take(link, msg.id);
    if (!task) return;
    this.scheduleDispatch();
    if (task.settled) return;
    switch (msg.kind) {
      case 'exception':
        if (task.exceptionRetriesLeft > 0) {
          task.exceptionRetriesLeft--;
          this.queueOf(task).unshiftAll([task]);
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
    } else if (!this.queueOf(task).remove(task) && task.pinned !== null) {
      const list = this.pinned.get(task.pinned);
      const i = list?.indexOf(task) ?? -1;
      if (list && i >= 0) list.splice(i, 1);
    }
    this.settle(task, { ok: false, error });
  }

  /**
   * The cluster is closing: queued tasks fail now, running ones fail when their agents go (they
   * are not re-queued any more).
   */
  close(error: ClustrixError): void {
    this.closedWith = error;
    for (const task of [...this.queue.drain(), ...this.inlineQueue.drain()]) this.settle(task, { ok: false, error });
    for (const list of this.pinned.values()) for (const task of list) this.settle(task, { ok: false, error });
    this.pinned.clear();
  }

  /**
   * Fails every queued task with `error` (no agent came back for them); running ones and later
   * submissions are untouched.
   */
  failQueued(error: ClustrixError): void {
    for (const task of [...this.queue.drain(), ...this.inlineQueue.drain()]) this.settle(task, { ok: false, error });
    this.scheduleDispatch();
  }

  /** Resolves when nothing is queued or running. */
  whenIdle(): Promise<void> {
    if (this.queued === 0 && this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
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

  private queueOf(task: TaskRecord): TaskQueue {
    return task.inline ? this.inlineQueue : this.queue;
  }

  private take(link: AgentLink, id: string): TaskRecord | undefined {
    const task = link.inflight.get(id);
    if (!task) return undefined;
    link.inflight.delete(id);
    if (task.inline) link.inlineInflight--;
    task.link = null;
    return task;
  }

  /** Inline tasks are bounded by the agent's inline concurrency (plus a little pipeline). */
  private inlineCapacity(link: AgentLink): number {
    if (link.state !== 'ready') return 0;
    return link.hello.inlineConcurrency + Math.min(link.hello.inlineConcurrency, 16) - link.inlineInflight;
  }

  private capacity(link: AgentLink): number {
    if (link.state !== 'ready') return 0;
    const slots = link.slots - link.actorSlots;
    if (slots <= 0) return 0;
    // Keep enough queued on the agent to cover one round trip at its measured task rate.
    const rtt = link.rttMs > 0 ? link.rttMs : 0.5;
    const extra = Math.ceil((slots * rtt) / Math.max(link.avgRunMs, 0.01));
    const depth = slots + Math.min(Math.max(extra, 1), slots * this.options.maxPipelinePerSlot);
    return depth - (link.inflight.size - link.inlineInflight);
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
    }
    this.spread(this.queue, (link) => this.capacity(link));
    this.spread(this.inlineQueue, (link) => this.inlineCapacity(link));
    if (this.queue.length > 0 && this.links.size > 0 && this.running === 0 && !this.warnedActorsHoldAll) {
      const free = [...this.links.values()].some((l) => l.state === 'ready' && l.slots > l.actorSlots);
      if (!free) {
        this.warnedActorsHoldAll = true;
        this.options.warn('every slot of every agent is held by an actor: tasks wait until an actor is killed or agents are added (cluster.scale)');
      }
    }
    if (this.queued === 0 && this.running === 0 && this.idleWaiters.length > 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  };

  /** Round robin, one task per agent per turn, so a burst spreads evenly. */
  private spread(queue: TaskQueue, capacity: (link: AgentLink) => number): void {
    if (queue.length === 0) return;
    const open: AgentLink[] = [];
    for (const link of this.links.values()) if (capacity(link) > 0) open.push(link);
    while (queue.length > 0 && open.length > 0) {
      for (let i = 0; i < open.length && queue.length > 0; ) {
        const link = open[i]!;
        const task = queue.shift()!;
        if (task.settled) continue;
        this.start(link, task);
        if (capacity(link) <= 0) open.splice(i, 1);
        else i++;
      }
    }
  }

  private start(link: AgentLink, task: TaskRecord): void {
    task.link = link;
    task.startedAt ??= Date.now();
    task.lastAgent = link.id;
    link.inflight.set(task.id, task);
    if (task.inline) link.inlineInflight++;
    if (!link.sentCode.has(task.code.hash)) {
      link.sentCode.add(task.code.hash);
      link.send({ type: 'code', hash: task.code.hash, kind: task.code.kind, source: task.code.source });
    }
    link.send({
      type: 'task',
      id: task.id,
      code: task.code.hash,
      export: task.export,
      args: task.args,
      inline: task.inline,
      chunk: task.chunk,
      timeoutMs: task.timeoutMs,
    });
  }
}
