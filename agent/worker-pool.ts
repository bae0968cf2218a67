import { Worker } from 'node:worker_threads';
import type { RemoteErrorInfo } from '../protocol/common.js';
import type { FailureKind } from '../protocol/common.js';
import type { CodeSource } from './task-code.js';
import type { FromThread, RunInThread } from './thread-messages.js';
import { WORKER_MARK } from './worker-thread.js';

export interface PoolJob {
  id: string;
  code: CodeSource;
  export: string | null;
  args: Uint8Array;
  chunk: boolean;
  timeoutMs: number | null;
}

export interface PoolEvents {
  done(id: string, value: Uint8Array, runMs: number): void;
  failed(id: string, kind: FailureKind, error: RemoteErrorInfo): void;
  log(id: string | null, stream: 'stdout' | 'stderr', text: string): void;
}

interface Slot {
  worker: Worker;
  job: PoolJob | null;
  timer: NodeJS.Timeout | null;
  startedAt: number;
  /** Code hashes this thread has compiled. */
  known: Set<string>;
}

/**
 * A fixed number of worker threads, one task each at a time. Cancelling or timing out a running
 * task terminates its thread and starts a fresh one: the only way to stop `while (true) {}`.
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: PoolJob[] = [];
  private closed = false;

  constructor(
    size: number,
    private readonly entry: URL,
    private readonly cacheDir: string,
    private readonly events: PoolEvents,
  ) {
    for (let i = 0; i < size; i++) {
      const slot: Slot = { worker: null as unknown as Worker, job: null, timer: null, startedAt: 0, known: new Set() };
      this.spawn(slot);
      this.slots.push(slot);
    }
  }

  get running(): number {
    let n = 0;
    for (const s of this.slots) if (s.job) n++;
    return n;
  }

  submit(job: PoolJob): void {
    this.queue.push(job);
    this.pump();
  }

  /** Stops a queued or running task. Returns false when the id is not here. */
  cancel(id: string, kind: FailureKind, error: RemoteErrorInfo): boolean {
    const queued = this.queue.findIndex((j) => j.id === id);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.events.failed(id, kind, error);
      return true;
    }
    const slot = this.slots.find((s) => s.job?.id === id);
    if (!slot) return false;
    this.replace(slot);
    this.events.failed(id, kind, error);
    this.pump();
    return true;
  }

  /** Drops every queued and running task without reporting (the coordinator re-queues them itself). */
  abandonAll(): void {
    this.queue.length = 0;
    for (const slot of this.slots) if (slot.job) this.replace(slot);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.job) continue;
      this.start(slot, this.queue.shift()!);
    }
  }

  private start(slot: Slot, job: PoolJob): void {
    slot.job = job;
    slot.startedAt = performance.now();
    const first = !slot.known.has(job.code.hash);
    if (first) slot.known.add(job.code.hash);
    const msg: RunInThread = {
      type: 'run',
      id: job.id,
      hash: job.code.hash,
      code: first ? job.code : null,
      export: job.export,
      args: job.args,
      chunk: job.chunk,
    };
    slot.worker.postMessage(msg);
    if (job.timeoutMs !== null) {
      const ms = job.timeoutMs;
      slot.timer = setTimeout(() => {
        if (slot.job !== job) return;
        this.replace(slot);
        this.events.failed(job.id, 'timeout', { name: 'TimeoutError', message: `task ran longer than ${ms} ms; its worker thread was terminated` });
        this.pump();
      }, ms);
    }
  }

  private finish(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.job = null;
  }

  /** Terminates a slot's thread and puts a fresh one in its place. */
  private replace(slot: Slot): void {
    this.finish(slot);
    const old = slot.worker;
    old.removeAllListeners();
    old.on('error', () => undefined);
    void old.terminate();
    this.spawn(slot);
  }

  /** Starts a fresh thread in a slot (which then knows no code). */
  private spawn(slot: Slot): void {
    const worker = new Worker(this.entry, { workerData: { [WORKER_MARK]: true, cacheDir: this.cacheDir } });
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
      case 'done':
        if (slot.job?.id !== msg.id) return;
        this.finish(slot);
        this.events.done(msg.id, msg.value, performance.now() - slot.startedAt);
        this.pump();
        return;
      case 'failed':
        if (slot.job?.id !== msg.id) return;
        this.finish(slot);
        this.events.failed(msg.id, 'exception', msg.error);
        this.pump();
        return;
    }
  }

  // An uncaught error inside the thread (e.g. a throw in a timer the task left behind) kills it.
  private onCrash(slot: Slot, err: Error): void {
    if (this.closed) return;
    const job = slot.job;
    this.replace(slot);
    if (job) this.events.failed(job.id, 'exception', { name: err.name, message: `the worker thread died: ${err.message}`, stack: err.stack });
    this.pump();
  }
}
