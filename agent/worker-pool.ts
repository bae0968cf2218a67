import type { Worker } from 'node:worker_threads';
import type { FailureKind, RemoteErrorInfo } from '../protocol/common.js';
import { startWorker, type WorkerEntry } from './start-worker.js';
import type { CodeSource } from './task-code.js';
import { expressEnd, oneRun, type FromThread, type RunInThread, type ThreadResult, type ToThread } from './thread-messages.js';
import { packRuns, RESULTS_PER_POST, unpackResults } from './thread-batch.js';
import type { ActorReplyToThread, ActorRequestFromThread } from './actor-bridge.js';
import { toErrorInfo } from './errors-info.js';
import { failureKind } from './pack-result.js';
import { argsFor, depsFor } from './thread-transfer.js';
import { answerObjectRead, type ReadObject } from './objects/object-reads.js';

export interface PoolJob {
  id: string;
  code: CodeSource;
  export: string | null;
  args: Uint8Array;
  chunk: boolean;
  timeoutMs: number | null;
  /** Bytes of the objects its arguments refer to. */
  deps: ReadonlyMap<string, Uint8Array>;
  /** Goes before the jobs waiting that are not express (the coordinator's call). */
  express?: boolean | undefined;
  /** GPU devices it gets: it runs on a thread whose CUDA_VISIBLE_DEVICES names only those. */
  gpus?: number | undefined;
  /** Its result may go from its thread to the coordinator straight (thread-writes.ts): it is not kept here. */
  direct?: boolean | undefined;
}

export interface PoolEvents {
  /** `refs`: ids of the refs inside the result. `sent`: its thread wrote it to the coordinator already. */
  done(id: string, value: Uint8Array, runMs: number, refs: string[], sent?: boolean): void;
  failed(id: string, kind: FailureKind, error: RemoteErrorInfo): void;
  log(id: string | null, stream: 'stdout' | 'stderr', text: string): void;
  /** A task calls an actor through a handle; `reply` answers the thread that asked. */
  actorRequest(request: ActorRequestFromThread, reply: (msg: ActorReplyToThread) => void): void;
  /** A task reads a ref nested in its arguments (it awaits it): its bytes, from the store, a peer or the coordinator. */
  readObject: ReadObject;
}

interface Slot {
  worker: Worker;
  /** Jobs handed to this thread, in the order it runs them; the first is running. */
  assigned: PoolJob[];
  timer: NodeJS.Timeout | null;
  /** Code hashes this thread has been sent. */
  known: Set<string>;
  /** A GPU thread's environment on top of the agent's (CUDA_VISIBLE_DEVICES). */
  env?: Record<string, string>;
}

/**
 * A fixed number of worker threads. Each thread gets a short queue of its own (deeper for tiny
 * tasks, one for long ones), so it never waits a thread round trip between tasks. Cancelling or
 * timing out a running task terminates its thread and starts a fresh one — the only way to stop
 * `while (true) {}` — and the thread's other queued jobs go back to the front of the pool's queue.
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly size: number;
  private readonly queue: PoolJob[] = [];
  private closed = false;
  /** Smoothed task run time, ms: sizes each thread's queue. */
  private avgRunMs = 10;
  private readonly events: PoolEvents;
  private readonly deviceCount: number;
  /** GPU devices not given to a task now. */
  private readonly freeDevices: string[];
  /** GPU jobs waiting for devices (the coordinator sends no more than fit; this covers a race). */
  private readonly gpuQueue: PoolJob[] = [];
  /** Threads of GPU jobs, by their device set; reused for the same set. */
  private readonly deviceSlots = new Map<string, Slot>();
  /** Devices each running GPU job holds, by job id. */
  private readonly held = new Map<string, string[]>();

  constructor(
    size: number,
    private readonly entry: WorkerEntry,
    private readonly cacheDir: string,
    events: PoolEvents,
    devices: readonly string[] = [],
    /** The lock and socket the threads write results to (thread-writes.ts `ThreadWrites.shared`). */
    private readonly writes: SharedArrayBuffer | null = null,
  ) {
    this.freeDevices = [...devices];
    this.deviceCount = devices.length;
    // Whichever way a GPU job ends (result, exception, timeout, cancel, crash), its devices come back.
    this.events = {
      ...events,
      done: (id, value, runMs, refs, sent) => {
        this.release(id);
        events.done(id, value, runMs, refs, sent);
      },
      failed: (id, kind, error) => {
        this.release(id);
        events.failed(id, kind, error);
      },
    };
    this.size = size;
  }

  /**
   * Starts the threads. The agent calls this once its connection's upgrade request has left (see
   * Agent.start), so the threads' creation overlaps the handshake instead of delaying it. Jobs
   * submitted before it wait in the queue.
   */
  start(): void {
    if (this.slots.length > 0 || this.closed) return;
    for (let i = 0; i < this.size; i++) {
      const slot = { assigned: [], timer: null, known: new Set<string>() } as unknown as Slot;
      this.spawn(slot);
      this.slots.push(slot);
    }
    this.pump();
  }

  private pumpQueued = false;

  get running(): number {
    let n = 0;
    for (const s of this.allSlots()) if (s.assigned.length > 0) n++;
    return n;
  }

  /** Threads (not GPU ones) with nothing to run and no queued job waiting for them. */
  get idle(): number {
    let n = 0;
    for (const s of this.slots) if (s.assigned.length === 0) n++;
    return Math.max(0, n - this.queue.length);
  }

  /** Jobs waiting for a thread (not yet handed to one). */
  get queued(): number {
    return this.queue.length + this.gpuQueue.length;
  }

  submit(job: PoolJob): void {
    if (job.gpus) {
      if (job.gpus > this.deviceCount) {
        this.events.failed(job.id, 'setup', { name: 'ResourcesUnsatisfiableError', code: 'RESOURCES_UNSATISFIABLE', message: `the task asks for ${job.gpus} GPUs; this agent has ${this.deviceCount}` });
        return;
      }
      this.gpuQueue.push(job);
      this.pumpGpu();
      return;
    }
    // Express jobs are few (a call holding no slot): finding their end is short.
    this.queue.splice(job.express ? expressEnd(this.queue, 0) : this.queue.length, 0, job);
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(this.pumpSubmitted);
  }

  /**
   * The jobs submitted in one tick (the tasks of one frame) go to a thread as one message: posted
   * one by one, the thread ran each alone and posted each result alone, and every result went back
   * to the coordinator in a frame of its own.
   */
  private readonly pumpSubmitted = (): void => {
    this.pumpQueued = false;
    this.pump();
  };

  /** Stops a queued or running task. Returns false when the id is not here. */
  cancel(id: string, kind: FailureKind, error: RemoteErrorInfo): boolean {
    for (const queue of [this.queue, this.gpuQueue]) {
      const queued = queue.findIndex((j) => j.id === id);
      if (queued >= 0) {
        queue.splice(queued, 1);
        this.events.failed(id, kind, error);
        return true;
      }
    }
    for (const slot of this.allSlots()) {
      const i = slot.assigned.findIndex((j) => j.id === id);
      if (i < 0) continue;
      if (i === 0) {
        this.replace(slot);
      } else {
        slot.assigned.splice(i, 1);
        slot.worker.postMessage({ type: 'skip', id });
      }
      this.events.failed(id, kind, error);
      this.pump();
      return true;
    }
    return false;
  }

  /** Drops every queued and running task without reporting (the coordinator re-queues them itself). */
  abandonAll(): void {
    if (this.closed) return;
    this.queue.length = 0;
    this.gpuQueue.length = 0;
    for (const devices of this.held.values()) this.freeDevices.push(...devices);
    this.held.clear();
    for (const slot of this.allSlots()) {
      if (slot.assigned.length === 0) continue;
      slot.assigned = [];
      this.replace(slot);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    const slots = this.allSlots();
    for (const slot of slots) if (slot.timer) clearTimeout(slot.timer);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private depth(): number {
    // Two posts' worth: the thread never runs dry waiting for the next (see RESULTS_PER_POST).
    if (this.avgRunMs < 0.5) return 2 * RESULTS_PER_POST;
    if (this.avgRunMs < 5) return 4;
    return 1;
  }

  private pump(): void {
    if (this.queue.length === 0) return;
    const depth = this.depth();
    // What each thread gets now, posted as one message per thread: a message costs more than the
    // runs in it (a wakeup of the thread), and an idle thread used to get its first job alone.
    const batches = new Map<Slot, PoolJob[]>();
    const give = (slot: Slot): void => {
      const jobs = batches.get(slot);
      if (jobs) jobs.push(this.queue.shift()!);
      else batches.set(slot, [this.queue.shift()!]);
    };
    const load = (slot: Slot): number => slot.assigned.length + (batches.get(slot)?.length ?? 0);
    // Idle threads first, then top the others up: long tasks never queue behind each other
    // while a thread is free.
    for (const slot of this.slots) if (slot.assigned.length === 0 && this.queue.length > 0) give(slot);
    // An express job (a call that holds no slot: an interactive run) does not wait for a thread's
    // queue to shorten: it goes to the shortest one, ahead of the jobs waiting there.
    while (this.queue[0]?.express && this.slots.length > 0) give(this.slots.reduce((a, b) => (load(b) < load(a) ? b : a)));
    for (const slot of this.slots) while (this.queue.length > 0 && load(slot) < depth) give(slot);
    for (const [slot, jobs] of batches) this.post(slot, jobs);
  }

  /** GPU jobs start on a thread of their own device set while devices are free, in order. */
  private pumpGpu(): void {
    while (this.gpuQueue.length > 0 && !this.closed) {
      const job = this.gpuQueue[0]!;
      const n = job.gpus ?? 0;
      if (this.freeDevices.length < n) return;
      this.gpuQueue.shift();
      const devices = this.freeDevices.splice(0, n);
      this.held.set(job.id, devices);
      const key = devices.join(',');
      let slot = this.deviceSlots.get(key);
      if (!slot || slot.assigned.length > 0) {
        slot = { assigned: [], timer: null, known: new Set<string>(), env: { CUDA_VISIBLE_DEVICES: key } } as unknown as Slot;
        this.spawn(slot);
        this.deviceSlots.set(key, slot);
      }
      this.post(slot, [job]);
    }
  }

  private release(id: string): void {
    const devices = this.held.get(id);
    if (!devices) return;
    this.held.delete(id);
    this.freeDevices.push(...devices);
    queueMicrotask(() => this.pumpGpu());
  }

  private allSlots(): Slot[] {
    return [...this.slots, ...this.deviceSlots.values()];
  }

  private post(slot: Slot, jobs: PoolJob[]): void {
    if (jobs.length === 0) return;
    const runs: RunInThread[] = [];
    const transfer: ArrayBuffer[] = [];
    const wasIdle = slot.assigned.length === 0;
    for (const job of jobs) {
      const first = !slot.known.has(job.code.hash);
      if (first) slot.known.add(job.code.hash);
      // Only the job that starts now may give its argument bytes away: one queued behind it goes
      // back to the pool (and to another thread) if this thread is replaced.
      const starts = wasIdle && slot.assigned.length === 0;
      // The thread runs an express job next (after the running one and other express jobs).
      slot.assigned.splice(job.express ? expressEnd(slot.assigned) : slot.assigned.length, 0, job);
      const deps = job.deps.size === 0 ? job.deps : depsFor(job.deps, transfer, starts);
      runs.push({ id: job.id, hash: job.code.hash, code: first ? job.code : null, export: job.export, args: argsFor(job.args, starts, transfer), chunk: job.chunk, deps, express: job.express === true });
    }
    // A lone run crosses flat; a batch's own buffer is moved too (packRuns adds it to `transfer`).
    const message: ToThread = runs.length === 1 ? oneRun(runs[0]!, jobs[0]!.direct === true) : { type: 'run', ...packRuns(runs, transfer) };
    slot.worker.postMessage(message, transfer);
    if (wasIdle) this.begin(slot);
  }

  /** assigned[0] starts now: its timeout counts from here. */
  private begin(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    const job = slot.assigned[0];
    if (!job || job.timeoutMs === null) return;
    const ms = job.timeoutMs;
    slot.timer = setTimeout(() => {
      if (slot.assigned[0] !== job) return;
      this.replace(slot);
      this.events.failed(job.id, 'timeout', { name: 'TimeoutError', message: `task ran longer than ${ms} ms; its worker thread was terminated` });
      this.pump();
    }, ms);
  }

  /** Terminates a slot's thread, returns its not-started jobs to the queue, starts a fresh thread. */
  private replace(slot: Slot): void {
    if (this.closed) return;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    const waiting = slot.assigned.slice(1);
    slot.assigned = [];
    this.queue.unshift(...waiting);
    // The old thread's listeners check `slot.worker`, so they go quiet once the new one is in place
    // (removing them would also remove the one terminate() itself waits on).
    const old = slot.worker;
    this.spawn(slot);
    old.on('error', () => undefined);
    void old.terminate();
  }

  private spawn(slot: Slot): void {
    const worker = startWorker(this.entry, { cacheDir: this.cacheDir, writes: this.writes }, slot.env);
    slot.worker = worker;
    slot.known = new Set();
    worker.on('message', (msg: FromThread) => {
      if (slot.worker === worker) this.onMessage(slot, msg);
    });
    worker.on('error', (err) => {
      if (slot.worker === worker) this.onCrash(slot, err);
    });
    worker.on('exit', (code) => {
      if (slot.worker === worker && !this.closed) this.onCrash(slot, new Error(`worker thread exited with code ${code}`));
    });
  }

  private onMessage(slot: Slot, msg: FromThread): void {
    switch (msg.type) {
      case 'log':
        this.events.log(msg.id, msg.stream, msg.text);
        return;
      case 'results':
        unpackResults(msg, (result) => this.onResult(slot, result));
        this.pump();
        return;
      case 'done':
      case 'failed':
        this.onResult(slot, msg); // a lone result, posted as it is
        this.pump();
        return;
      case 'actor-request': {
        const worker = slot.worker;
        this.events.actorRequest(msg, (reply) => {
          if (slot.worker === worker) worker.postMessage(reply);
        });
        return;
      }
      case 'object-read': {
        const worker = slot.worker;
        answerObjectRead(msg, this.events.readObject, (reply, transfer) => {
          if (slot.worker === worker) worker.postMessage(reply, transfer);
        });
        return;
      }
    }
  }

  private onResult(slot: Slot, result: ThreadResult): void {
    const i = slot.assigned.findIndex((j) => j.id === result.id);
    if (i < 0) return; // cancelled after it started
    // The job's own id from here on: the agent's maps have its hash already (the thread's copy would hash again in each).
    const id = slot.assigned[i]!.id;
    slot.assigned.splice(i, 1);
    if (i === 0) this.begin(slot);
    if (result.type === 'done') {
      this.avgRunMs += (result.runMs - this.avgRunMs) * 0.1;
      this.events.done(id, result.value, result.runMs, result.refs, result.sent === true);
    } else {
      this.events.failed(id, failureKind(result.error), result.error);
    }
  }

  // An uncaught error inside the thread (e.g. a throw in a timer the task left behind) kills it.
  private onCrash(slot: Slot, err: unknown): void {
    if (this.closed) return;
    const job = slot.assigned[0];
    this.replace(slot);
    if (job) {
      const info = toErrorInfo(err);
      this.events.failed(job.id, 'exception', { ...info, message: `the worker thread died: ${info.message}` });
    }
    this.pump();
  }
}

