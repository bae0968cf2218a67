import type { ClustrixError } from '../errors/errors.js';
import type { AgentLink } from './link.js';
import { depsOf, type ObjectDirectory } from './object-directory.js';
import type { TaskRecord } from './task.js';

/** What dependents need of the scheduler. */
export interface ParkingScheduler {
  /** Sends `task` to `link` parked; false when it may not go there now (no room, others waiting, does not fit). */
  park(task: TaskRecord, link: AgentLink): boolean;
  submit(task: TaskRecord): void;
  cancel(task: TaskRecord, error: ClustrixError): void;
  /** Asks for a dispatch soon (parking happens at its end: {@link PipelinedDeps.dispatched}). */
  poke(): void;
}

/** What the scheduler tells the place that parks dependents. */
export interface ParkHooks {
  /** `task` went to `link`: tasks waiting for its result may follow it there. */
  started(task: TaskRecord, link: AgentLink): void;
  /** The end of a dispatch: park what became eligible or what waited for room. */
  dispatched(): void;
  /** A parked task came back without a result (withdrawn, its agent lost, or it threw and retries): it waits for its refs again. */
  unparked(task: TaskRecord): void;
}

/** A task with ref arguments, from its submission until it is queued or settles. */
interface Waiting {
  readonly task: TaskRecord;
  readonly refs: readonly string[];
  readonly lazy: readonly string[];
  /** The link whose room it waits for (it fits there but there was none), if any. */
  room: AgentLink | null;
}

/**
 * Tasks whose arguments hold refs (issue 13: a chain of dependent tasks). Each waits for its refs
 * to exist and is then queued as any task, preferably where they are: the coordinator's hop
 * between the agent that made a value and the one that runs the next step. Sooner, when every ref
 * is being made on (or already kept on) one agent with pipeline room, it is sent there at once,
 * parked: the agent starts it the moment the values land in its store (Ray's and Dask's workers
 * resolve dependencies locally the same way).
 *
 * The contract stays the one of waiting: a parked task runs only with values made there. When a
 * producer is retried (it threw), its parked dependents are withdrawn (scheduler.ts); when a ref
 * cannot be had (its task failed, was cancelled, its value was lost), the task is cancelled on its
 * agent and fails with that ref's error, as a waiting one does; when its agent is lost, it comes
 * back here like a running task (one loss retry) and waits for lineage to make its refs again.
 */
export class PipelinedDeps implements ParkHooks {
  /** The task that will make each pending object (its current attempt). */
  private readonly producers = new Map<string, TaskRecord>();
  private readonly waiting = new Map<TaskRecord, Waiting>();
  /** Waiting tasks not sent, by each of their refs not made yet. */
  private readonly byRef = new Map<string, Set<Waiting>>();
  /** Waiting tasks to look at during the next dispatch (their refs' producers moved). */
  private toVisit: Waiting[] = [];
  private readonly forRoom = new Map<AgentLink, Set<Waiting>>();
  /** Tasks sent parked so far (objectStats().parked). */
  parkedCount = 0;

  constructor(
    private readonly directory: ObjectDirectory,
    private readonly scheduler: ParkingScheduler,
  ) {}

  /** `task` (an attempt) will make object `id`. */
  producing(id: string, task: TaskRecord): void {
    this.producers.set(id, task);
  }

  /** `task` settled: it makes nothing any more, and waits for nothing. */
  settled(task: TaskRecord): void {
    if (task.keep !== null && this.producers.get(task.keep) === task) this.producers.delete(task.keep);
    const w = this.waiting.get(task);
    if (w) this.leave(w);
  }

  /** `task` waits for `refs` (pinned by the caller): queued once they all exist, or parked sooner. */
  wait(task: TaskRecord, refs: readonly string[], lazy: readonly string[]): void {
    const w: Waiting = { task, refs, lazy, room: null };
    this.waiting.set(task, w);
    let pending = false;
    for (const ref of refs) {
      if (this.directory.settled(ref)) continue;
      pending = true;
      let set = this.byRef.get(ref);
      if (!set) this.byRef.set(ref, (set = new Set()));
      set.add(w);
    }
    if (pending) {
      this.toVisit.push(w);
      this.scheduler.poke();
    }
    this.directory.ready(refs).then(
      () => {
        // Parked already (it settles from its agent), or withdrawn and waiting again (another wait).
        if (this.waiting.get(task) !== w || task.link !== null || task.settled) return;
        this.leave(w);
        task.deps = depsOf(this.directory, refs, lazy);
        task.prefer = [...this.directory.holdersOf(refs.filter((r) => !lazy.includes(r)))].sort((a, b) => b[1] - a[1]).map(([agentId]) => agentId);
        this.scheduler.submit(task);
      },
      (err: unknown) => {
        if (this.waiting.get(task) !== w) return;
        this.leave(w);
        this.scheduler.cancel(task, err as ClustrixError);
      },
    );
  }

  started(task: TaskRecord): void {
    if (task.keep === null) return;
    const set = this.byRef.get(task.keep);
    if (set) for (const w of set) this.toVisit.push(w);
  }

  unparked(task: TaskRecord): void {
    const w = this.waiting.get(task);
    if (!w) return;
    this.leave(w);
    this.wait(task, w.refs, w.lazy);
  }

  dispatched(): void {
    if (this.toVisit.length === 0 && this.forRoom.size === 0) return;
    do {
      // Parking a task makes its own dependents eligible: they are appended as we go.
      const visit = this.toVisit;
      this.toVisit = [];
      for (const w of visit) this.tryPark(w);
      for (const set of this.forRoom.values()) {
        for (const w of set) if (this.tryPark(w) === 'no-room') break;
      }
    } while (this.toVisit.length > 0);
  }

  private tryPark(w: Waiting): 'parked' | 'no-room' | 'not-now' {
    const { task } = w;
    if (this.waiting.get(task) !== w || task.link !== null || task.settled) return 'not-now';
    const link = this.where(w);
    if (!link) {
      this.roomAt(w, null);
      return 'not-now';
    }
    task.deps = depsOf(this.directory, w.refs, w.lazy);
    if (!this.scheduler.park(task, link)) {
      this.roomAt(w, link);
      return 'no-room';
    }
    this.parkedCount++;
    this.roomAt(w, null);
    for (const ref of w.refs) this.byRef.get(ref)?.delete(w);
    return 'parked';
  }

  /**
   * The one agent where every ref of `w` is being made (its producer sent there, running or
   * parked) or kept; null when there is none, or no ref is pending (waiting queues it then).
   */
  private where(w: Waiting): AgentLink | null {
    let at: AgentLink | null = null;
    for (const ref of w.refs) {
      const producer = this.producers.get(ref);
      if (!producer || producer.settled) continue;
      if (producer.link === null || producer.withdrawing || (at !== null && producer.link !== at)) return null;
      at = producer.link;
    }
    if (at === null) return null;
    for (const ref of w.refs) {
      const producer = this.producers.get(ref);
      if ((!producer || producer.settled) && !this.directory.heldBy(ref, at.id)) return null;
    }
    return at;
  }

  private roomAt(w: Waiting, link: AgentLink | null): void {
    if (w.room === link) return;
    if (w.room) {
      const set = this.forRoom.get(w.room);
      set?.delete(w);
      if (set?.size === 0) this.forRoom.delete(w.room);
    }
    w.room = link;
    if (link) {
      let set = this.forRoom.get(link);
      if (!set) this.forRoom.set(link, (set = new Set()));
      set.add(w);
    }
  }

  private leave(w: Waiting): void {
    this.waiting.delete(w.task);
    this.roomAt(w, null);
    for (const ref of w.refs) {
      const set = this.byRef.get(ref);
      set?.delete(w);
      if (set?.size === 0) this.byRef.delete(ref);
    }
  }
}
