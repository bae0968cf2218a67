import type { Lane } from './lanes.js';
import type { AgentLink } from './link.js';
import type { TaskRecord } from './task.js';

/**
 * Whether `task` may be parked on `link` (the agent making its deps), its pipeline room aside
 * (link-load.ts parkRoom): the agent holds parked tasks; the task is a plain worker task that fits
 * it (no resources asked, no other pool, not pinned); and nothing waits in its lane: fair share
 * is kept by parking only into room that no queued task wants.
 */
export function parkable(task: TaskRecord, link: AgentLink, lane: Lane): boolean {
  if (!link.parks || link.state !== 'ready' || task.settled || task.link !== null) return false;
  if (lane.queue.length > 0 || lane.blocked.size > 0) return false;
  return task.resources === null && !task.inline && task.pinned === null && (!task.pool || task.pool === link.pool);
}

/**
 * Object `objectId` will not land on `link` now (its task left it to run again): withdraws the
 * tasks parked there for it, and those parked for theirs in turn. None of them can have started
 * (each needed a value that never landed); each stays on the link until the agent answers.
 */
export function withdrawAfter(link: AgentLink, objectId: string): void {
  const gone = [objectId];
  for (let id = gone.pop(); id !== undefined; id = gone.pop()) {
    for (const task of link.inflight.values()) {
      if (!task.parked || task.withdrawing || !task.deps.some((d) => d.objectId === id)) continue;
      task.withdrawing = true;
      link.send({ type: 'withdraw', id: task.id });
      if (task.keep !== null) gone.push(task.keep);
    }
  }
}
