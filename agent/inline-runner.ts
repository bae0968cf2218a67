import { AsyncLocalStorage } from 'node:async_hooks';
import { format } from 'node:util';
import type { FailureKind, RemoteErrorInfo } from '../protocol/common.js';
import { toErrorInfo } from './errors-info.js';
import { failureKind } from './pack-result.js';
import { executeTask } from './execute.js';
import { CodeCache } from './task-code.js';
import { interceptWrites, TaskOutput } from './task-output.js';
import type { PoolEvents, PoolJob } from './worker-pool.js';

/**
 * Runs tasks marked inline (async, I/O-bound) on the agent's own event loop, at most `concurrency`
 * at once. Such a task cannot be killed: on timeout or cancel its result is dropped and the caller
 * is told at once, but its pending I/O finishes in the background.
 */
export class InlineRunner {
  private readonly cache: CodeCache;
  private readonly queue: PoolJob[] = [];
  private readonly active = new Map<string, NodeJS.Timeout | null>();
  private readonly context = new AsyncLocalStorage<string>();
  private readonly output: TaskOutput;
  private capturing = false;

  constructor(
    private readonly concurrency: number,
    cacheDir: string,
    private readonly events: PoolEvents,
  ) {
    this.cache = new CodeCache(cacheDir);
    this.output = new TaskOutput((id, stream, text) => events.log(id, stream, text));
  }

  get running(): number {
    return this.active.size;
  }

  submit(job: PoolJob): void {
    // At the first inline task, not at the agent's start: opening the stdout and stderr streams
    // was ~0.7 ms before the hello, and until a task runs there is no output to attribute.
    if (!this.capturing) this.captureOutput();
    this.queue.push(job);
    this.pump();
  }

  cancel(id: string, kind: FailureKind, error: RemoteErrorInfo): boolean {
    const queued = this.queue.findIndex((j) => j.id === id);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
    } else if (this.active.has(id)) {
      this.settle(id);
    } else {
      return false;
    }
    this.events.failed(id, kind, error);
    this.pump();
    return true;
  }

  abandonAll(): void {
    this.queue.length = 0;
    for (const id of [...this.active.keys()]) this.settle(id);
  }

  private pump(): void {
    while (this.active.size < this.concurrency && this.queue.length > 0) this.start(this.queue.shift()!);
  }

  private start(job: PoolJob): void {
    const timer =
      job.timeoutMs === null
        ? null
        : setTimeout(() => {
            this.cancel(job.id, 'timeout', {
              name: 'TimeoutError',
              message: `inline task ran longer than ${job.timeoutMs} ms; its result will be ignored (inline tasks cannot be killed)`,
            });
          }, job.timeoutMs);
    this.active.set(job.id, timer);
    this.output.begin(job.id);
    this.context.run(job.id, () => {
      try {
        this.cache.add(job.code);
      } catch (err) {
        this.report(job.id, () => this.events.failed(job.id, 'exception', toErrorInfo(err)));
        return;
      }
      const startedAt = performance.now();
      executeTask(job.id, this.cache, job.code.hash, job.export, job.args, job.chunk, job.deps).then(
        ({ value, refs }) => this.report(job.id, () => this.events.done(job.id, value, performance.now() - startedAt, refs)),
        (err: unknown) => {
          const info = toErrorInfo(err);
          this.report(job.id, () => this.events.failed(job.id, failureKind(info), info));
        },
      );
    });
  }

  private report(id: string, send: () => void): void {
    if (!this.active.has(id)) return; // timed out or cancelled already
    this.settle(id);
    send();
    this.pump();
  }

  /** The task is over here (done, failed, timed out or cancelled): its partial lines go out first. */
  private settle(id: string): void {
    const timer = this.active.get(id);
    if (timer) clearTimeout(timer);
    this.active.delete(id);
    this.output.end(id);
  }

  // Inline tasks share the agent's thread, so output is attributed through async context, not a
  // global; output outside any task is the agent's own and passes through.
  private captureOutput(): void {
    this.capturing = true;
    const { context, output } = this;
    // Through the stream (captured below, never recursing), formatted without colours.
    const wrap = (stream: 'stdout' | 'stderr', original: (...a: unknown[]) => void) =>
      (...args: unknown[]) => {
        if (context.getStore() === undefined) original(...args);
        else process[stream].write(`${format(...args)}\n`);
      };
    console.log = wrap('stdout', console.log.bind(console));
    console.info = wrap('stdout', console.info.bind(console));
    console.debug = wrap('stdout', console.debug.bind(console));
    console.error = wrap('stderr', console.error.bind(console));
    console.warn = wrap('stderr', console.warn.bind(console));
    for (const stream of ['stdout', 'stderr'] as const) {
      interceptWrites(process[stream], (chunk, encoding) => {
        const id = context.getStore();
        if (id === undefined) return false;
        output.write(id, stream, chunk, encoding);
        return true;
      });
    }
  }
}
