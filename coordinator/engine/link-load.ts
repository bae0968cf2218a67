import type { Task } from '../../protocol/coordinator-messages.js';
import { withCpus } from './fit.js';
import type { AgentLink } from './link.js';
import type { TaskRecord } from './task.js';

/**
 * What one link carries: the tasks sent to it and not reported yet, the resources they hold, and
 * how many more of each kind it takes now. The scheduler's only writer of a link's load.
 */

/** Inline tasks are bounded by the agent's inline concurrency (plus a little pipeline). */
export function inlineRoom(link: AgentLink): number {
  if (link.state !== 'ready') return 0;
  return link.hello.inlineConcurrency + Math.min(link.hello.inlineConcurrency, 16) - link.inlineInflight;
}

/** Work kept queued on an agent beyond its slots, in time at its measured completion rate. */
const PIPELINE_MS = 2;

/**
 * Worker tasks: the free slots plus a pipeline that covers one round trip at the agent's task rate.
 * While several share-holders compete (`bounded`), also (Little's law) no more than about
 * PIPELINE_MS, or two round trips, of its measured completions: a short task's run time says
 * little of what the agent spends per task, and a deeper queue makes the others' calls wait
 * behind it. A holder alone keeps the deeper pipeline: fewer, bigger frames.
 */
export function workerRoom(link: AgentLink, maxPipelinePerSlot: number, bounded: boolean): number {
  const slots = freeSlots(link);
  if (slots <= 0) return 0;
  return slots + pipelineDepth(link, slots, maxPipelinePerSlot, bounded) - (link.inflight.size - link.inlineInflight - link.constrainedInflight);
}

/**
 * Room for one more parked task: worker room within the pipeline's share of it, so parked tasks
 * (which hold no slot until they start) never use the room of the slots themselves: a task sent
 * while the agent may have a free slot (an interactive call) always finds room.
 */
export function parkRoom(link: AgentLink, maxPipelinePerSlot: number, bounded: boolean): number {
  const slots = freeSlots(link);
  if (slots <= 0 || !link.parks) return 0;
  return Math.min(workerRoom(link, maxPipelinePerSlot, bounded), pipelineDepth(link, slots, maxPipelinePerSlot, bounded) - link.parkedInflight);
}

/** Slots that tasks may use: not held by actors or by tasks that asked for cpus. */
function freeSlots(link: AgentLink): number {
  if (link.state !== 'ready') return 0;
  return link.slots - link.actorSlots - (link.reserved.cpus ?? 0);
}

/** Tasks kept queued on the agent beyond its `slots` (see workerRoom). */
function pipelineDepth(link: AgentLink, slots: number, maxPipelinePerSlot: number, bounded: boolean): number {
  const rtt = link.rttMs > 0 ? link.rttMs : 0.5;
  const byRunTime = Math.ceil((slots * rtt) / Math.max(link.avgRunMs, 0.01));
  const extra = bounded && link.doneRate > 0 ? Math.min(byRunTime, Math.ceil(link.doneRate * Math.max(PIPELINE_MS, 2 * rtt))) : byRunTime;
  return Math.min(Math.max(extra, 1), slots * maxPipelinePerSlot);
}

/** `task` goes to `link` at `now` (Date.now()): counted on it (and what it asked for held) until {@link unload}. */
export function load(link: AgentLink, task: TaskRecord, now: number): void {
  task.link = link;
  task.startedAt ??= now;
  task.lastAgent = link.id;
  task.sends = (task.sends ?? 0) + 1;
  link.inflight.set(task.id, task);
  if (task.parked) link.parkedInflight++;
  if (task.resources) {
    link.constrainedInflight++;
    for (const [name, amount] of Object.entries(withCpus(task.resources))) link.reserved[name] = (link.reserved[name] ?? 0) + amount;
  }
  if (task.inline) link.inlineInflight++;
}

/**
 * The agent reported `task` (or it is cancelled for good), which the caller took off
 * `link.inflight` (`take`: one lookup for finding and removing it): the rest of its load goes.
 */
export function unload(link: AgentLink, task: TaskRecord): void {
  // Idle from now (adaptive scaling measures idleness from here); busy links need no clock.
  if (link.inflight.size === 0) link.lastActiveAt = Date.now();
  if (task.inline) link.inlineInflight--;
  if (task.parked) link.parkedInflight--;
  task.parked = false;
  task.withdrawing = false;
  if (task.resources) {
    link.constrainedInflight--;
    for (const [name, amount] of Object.entries(withCpus(task.resources))) link.reserved[name] = (link.reserved[name] ?? 0) - amount;
  }
  task.link = null;
}

/** The wire form of `task`, naming `code` (the hash its link's agent has: AgentLink.ensureCode). */
export function taskMessage(task: TaskRecord, code: string, express: boolean): Task {
  // Optional keys are added after the literal, not spread into it (the runtime's slow path, per task).
  const message: Task = {
    type: 'task',
    id: task.id,
    code,
    export: task.export,
    args: task.args,
    inline: task.inline,
    chunk: task.chunk,
    timeoutMs: task.timeoutMs,
    express,
    keep: task.keep,
    deps: task.deps,
  };
  if (task.resources?.gpus) message.gpus = Math.ceil(task.resources.gpus);
  if (task.parked) message.parked = true;
  return message;
}
