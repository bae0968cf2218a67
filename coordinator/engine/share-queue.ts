import { TaskQueue, type TaskRecord } from './task.js';

/**
 * One share-holder's waiting work: a client of a service, or one call (a `run`, a `map`) of an
 * embedded program. Its tasks wait by priority, FIFO within one priority.
 */
interface Holder {
  readonly key: string;
  weight: number;
  /** Tasks of this holder on agents now. */
  running: number;
  /** Of `running`, those sent parked (waiting on their agent for a dependency). */
  parked: number;
  /** Counted in `contending`. */
  contends: boolean;
  /** Live (not settled) tasks waiting. */
  queued: number;
  /** Queues by priority; `priorities` lists their keys, highest first. */
  readonly levels: Map<number, TaskQueue>;
  priorities: number[];
  /** When it last had a task taken: among equal shares, the one served longest ago goes next. */
  served: number;
  /** Position in the heap; -1 while it has nothing waiting. */
  heapIndex: number;
}

/**
 * Waiting tasks across share-holders. `take()` returns the task of highest priority; among
 * holders whose best waiting task has the same priority, the holder with the least share in use
 * (running ÷ weight) goes first. Holders with waiting work sit in a binary heap on that order, so
 * taking a task is O(log holders) and never looks at the tasks of other holders.
 *
 * Cancelled tasks are left where they are (marked settled) and skipped when reached, so a cancel is
 * O(1); a holder's queues are dropped as a whole once nothing live is left in them.
 */
export class ShareQueue {
  private readonly holders = new Map<string, Holder>();
  private readonly heap: Holder[] = [];
  private clock = 0;
  private live = 0;
  private contenders = 0;

  /** Live tasks waiting. */
  get length(): number {
    return this.live;
  }

  /** Share-holders with tasks waiting or on agents. */
  get holderCount(): number {
    return this.holders.size;
  }

  /**
   * Share-holders competing for slots now: with tasks waiting, or on agents other than parked
   * ones (the next steps of a chain wait for its current one; they compete with nobody).
   */
  get contending(): number {
    return this.contenders;
  }

  push(task: TaskRecord): void {
    const h = this.holder(task);
    this.levelOf(h, task.priority).push(task);
    this.added(h, 1);
  }

  /** Puts tasks back at the front of their holders' queues, keeping their order (lost agents' work runs next). */
  unshiftAll(tasks: readonly TaskRecord[]): void {
    const byLevel = new Map<Holder, Map<number, TaskRecord[]>>();
    for (const task of tasks) {
      const h = this.holder(task);
      let levels = byLevel.get(h);
      if (!levels) byLevel.set(h, (levels = new Map()));
      let list = levels.get(task.priority);
      if (!list) levels.set(task.priority, (list = []));
      list.push(task);
    }
    for (const [h, levels] of byLevel) {
      let n = 0;
      for (const [priority, list] of levels) {
        this.levelOf(h, priority).unshiftAll(list);
        n += list.length;
      }
      this.added(h, n);
    }
  }

  /** The next task to run, now counted as running for its holder; undefined when none waits. */
  take(): TaskRecord | undefined {
    for (;;) {
      const h = this.heap[0];
      if (!h) return undefined;
      const top = h.priorities[0]!;
      const queue = h.levels.get(top)!;
      const task = queue.shift();
      if (queue.length === 0) {
        h.levels.delete(top);
        h.priorities.shift();
      }
      if (task === undefined || task.settled) {
        // A cancelled task's place; its holder may now rank lower.
        if (h.priorities.length === 0) this.emptied(h);
        else this.sift(h);
        continue;
      }
      h.queued--;
      this.live--;
      h.running++;
      h.served = ++this.clock;
      this.touch(h);
      if (h.queued === 0) this.emptied(h);
      else this.sift(h);
      return task;
    }
  }

  /** A task set aside after `take()` (it fit no agent then, see finished()) runs after all. */
  started(task: TaskRecord): void {
    const h = this.holder(task);
    h.running++;
    if (task.parked) h.parked++;
    this.touch(h);
    if (h.heapIndex >= 0) this.sift(h);
  }

  /** Tasks of `task`'s holder on agents now (counting `task` once it was taken). */
  runningOf(task: TaskRecord): number {
    return this.holders.get(task.share)?.running ?? 0;
  }

  /** A waiting task was settled (cancelled): it no longer counts; its record is skipped later. */
  forget(task: TaskRecord): void {
    const h = this.holders.get(task.share);
    if (!h || h.queued === 0) return;
    h.queued--;
    this.live--;
    this.touch(h);
    if (h.queued === 0) this.emptied(h);
  }

  /** A task taken earlier stopped running (done, failed, lost; `parked`: it was sent parked): its holder's share shrinks. */
  finished(task: TaskRecord, parked = false): void {
    const h = this.holders.get(task.share);
    if (!h) return;
    h.running = Math.max(0, h.running - 1);
    if (parked) h.parked = Math.max(0, h.parked - 1);
    this.touch(h);
    if (h.heapIndex >= 0) this.sift(h);
    else if (h.running === 0) this.holders.delete(h.key);
  }

  /** Every live waiting task, removed. */
  drain(): TaskRecord[] {
    const out: TaskRecord[] = [];
    for (const h of this.heap) {
      for (const p of h.priorities) for (const t of h.levels.get(p)!.drain()) if (!t.settled) out.push(t);
      h.levels.clear();
      h.priorities = [];
      h.queued = 0;
      h.heapIndex = -1;
      this.touch(h);
      if (h.running === 0) this.holders.delete(h.key);
    }
    this.heap.length = 0;
    this.live = 0;
    return out;
  }

  private holder(task: TaskRecord): Holder {
    let h = this.holders.get(task.share);
    if (!h) {
      h = { key: task.share, weight: task.weight, running: 0, parked: 0, contends: false, queued: 0, levels: new Map(), priorities: [], served: 0, heapIndex: -1 };
      this.holders.set(h.key, h);
    }
    h.weight = task.weight;
    return h;
  }

  private levelOf(h: Holder, priority: number): TaskQueue {
    let q = h.levels.get(priority);
    if (!q) {
      h.levels.set(priority, (q = new TaskQueue()));
      // Few distinct priorities per holder: a sorted insert is cheap.
      let i = 0;
      while (i < h.priorities.length && h.priorities[i]! > priority) i++;
      h.priorities.splice(i, 0, priority);
    }
    return q;
  }

  private added(h: Holder, n: number): void {
    if (n === 0) return;
    h.queued += n;
    this.live += n;
    this.touch(h);
    if (h.heapIndex < 0) {
      h.heapIndex = this.heap.length;
      this.heap.push(h);
    }
    this.sift(h);
  }

  /** Nothing live waits in `h`: out of the heap, its dead records dropped. */
  private emptied(h: Holder): void {
    h.levels.clear();
    h.priorities = [];
    h.queued = 0;
    this.touch(h);
    const i = h.heapIndex;
    if (i >= 0) {
      const last = this.heap.pop()!;
      if (last !== h) {
        this.heap[i] = last;
        last.heapIndex = i;
        this.sift(last);
      }
      h.heapIndex = -1;
    }
    if (h.running === 0) this.holders.delete(h.key);
  }

  private touch(h: Holder): void {
    const contends = h.queued > 0 || h.running > h.parked;
    if (contends === h.contends) return;
    h.contends = contends;
    this.contenders += contends ? 1 : -1;
  }

  private sift(h: Holder): void {
    let i = h.heapIndex;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h, this.heap[parent]!)) break;
      this.place(this.heap[parent]!, i);
      i = parent;
    }
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      const at = (k: number): Holder => (k === i ? h : this.heap[k]!);
      if (l < this.heap.length && before(this.heap[l]!, at(best))) best = l;
      if (r < this.heap.length && before(this.heap[r]!, at(best))) best = r;
      if (best === i) break;
      this.place(this.heap[best]!, i);
      i = best;
    }
    this.place(h, i);
  }

  private place(h: Holder, i: number): void {
    this.heap[i] = h;
    h.heapIndex = i;
  }
}

/** Whether holder a's next task goes before holder b's. */
function before(a: Holder, b: Holder): boolean {
  const pa = a.priorities[0] ?? -Infinity;
  const pb = b.priorities[0] ?? -Infinity;
  if (pa !== pb) return pa > pb;
  const sa = a.running / a.weight;
  const sb = b.running / b.weight;
  if (sa !== sb) return sa < sb;
  return a.served < b.served;
}
