import type { AgentLink } from './link.js';
import type { TaskRecord } from './task.js';

/** What {@link PinnedTasks.dispatch} asks of the scheduler. */
export interface PinnedDispatch {
  /** Tasks the link has room for now. */
  capacity(link: AgentLink): number;
  /** Sends one task to the link. */
  start(link: AgentLink, task: TaskRecord): void;
  /** The link was served (its load may have changed). */
  served(link: AgentLink): void;
}

/**
 * Tasks bound to one agent (a broadcast's copies), waiting for room there, in order per agent.
 * They bypass the lanes and fair share: each waits for its own agent, and fails with it.
 */
export class PinnedTasks {
  private readonly byAgent = new Map<string, TaskRecord[]>();

  /** Queues `task` behind the others waiting for its agent. */
  push(task: TaskRecord): void {
    const agent = task.pinned!;
    let list = this.byAgent.get(agent);
    if (!list) this.byAgent.set(agent, (list = []));
    list.push(task);
  }

  /** Puts `task` back first in line for its agent (it failed there and retries). */
  unshift(task: TaskRecord): void {
    const agent = task.pinned!;
    this.byAgent.set(agent, [task, ...(this.byAgent.get(agent) ?? [])]);
  }

  /** Drops a waiting task (it was cancelled); nothing happens when it is not waiting. */
  forget(task: TaskRecord): void {
    const list = this.byAgent.get(task.pinned!);
    const i = list?.indexOf(task) ?? -1;
    if (list && i >= 0) list.splice(i, 1);
  }

  /** The tasks waiting for `agent` (which is gone), taken out. */
  takeAgent(agent: string): TaskRecord[] {
    const list = this.byAgent.get(agent) ?? [];
    this.byAgent.delete(agent);
    return list;
  }

  /** Every waiting task, taken out. */
  takeAll(): TaskRecord[] {
    const out = [...this.byAgent.values()].flat();
    this.byAgent.clear();
    return out;
  }

  /** Starts waiting tasks on their agents while each has room. An agent not linked (yet) keeps its tasks waiting. */
  dispatch(links: ReadonlyMap<string, AgentLink>, hooks: PinnedDispatch): void {
    for (const [agent, list] of this.byAgent) {
      const link = links.get(agent);
      if (!link) continue;
      // A broadcast must reach an agent even when actors hold all of its slots.
      let free = Math.max(hooks.capacity(link), link.inflight.size === 0 ? 1 : 0);
      while (free-- > 0 && list.length > 0) hooks.start(link, list.shift()!);
      if (list.length === 0) this.byAgent.delete(agent);
      hooks.served(link);
    }
  }
}
