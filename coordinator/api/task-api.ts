import { streamCall, type MapOptions, type StreamResult } from './fan-out.js';
import type { TaskSubmitter } from '../engine/submit.js';
import { resolveTaskOptions, type ResolvedTaskOptions, type TaskOptions } from './task-options.js';
import { codeOf, type Runnable } from './task-ref.js';

/**
 * run, remote, map and stream, written once for an embedded cluster and for a client attached to a
 * service: both only say where tasks go and with which defaults.
 */
export abstract class TaskApi {
  private defaultOptions: ResolvedTaskOptions | null = null;

  /** Where tasks go: the in-process scheduler, or the service over a connection. */
  protected abstract taskSubmitter(): TaskSubmitter;
  /** Retries after agent loss, and the slots a map should keep busy. */
  protected abstract taskDefaults(): { retries: number; totalSlots: number };
  /** Throws when calls can no longer be made. */
  protected abstract assertOpen(): void;

  /** Runs `fn(...args)` on an agent. */
  run<A extends unknown[], R>(fn: Runnable<A, R>, ...args: A): Promise<Awaited<R>> {
    try {
      this.assertOpen();
      const { code, exportName } = codeOf(fn);
      this.defaultOptions ??= resolveTaskOptions(undefined, this.taskDefaults());
      return this.taskSubmitter().submit(code, exportName, args, this.defaultOptions).result as Promise<Awaited<R>>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** A function that runs `fn` on an agent with these options each time it is called. */
  remote<A extends unknown[], R>(fn: Runnable<A, R>, options?: TaskOptions): (...args: A) => Promise<Awaited<R>> {
    const resolved = resolveTaskOptions(options, this.taskDefaults());
    const { code, exportName } = codeOf(fn);
    return (...args: A) => {
      try {
        this.assertOpen();
        return this.taskSubmitter().submit(code, exportName, args, resolved).result as Promise<Awaited<R>>;
      } catch (err) {
        return Promise.reject(err);
      }
    };
  }

  /** `fn` over every item; results in input order. The first failure rejects and cancels the rest. */
  async map<T, R>(fn: Runnable<[T], R>, items: Iterable<T> | AsyncIterable<T>, options?: MapOptions): Promise<Awaited<R>[]> {
    const out: Awaited<R>[] = [];
    for await (const { index, value } of this.stream(fn, items, options)) out[index] = value;
    return out;
  }

  /** `fn` over every item; yields `{ index, value }` as each finishes (completion order). */
  stream<T, R>(fn: Runnable<[T], R>, items: Iterable<T> | AsyncIterable<T>, options?: MapOptions): AsyncGenerator<StreamResult<Awaited<R>>> {
    this.assertOpen();
    return streamCall<Awaited<R>>(this.taskSubmitter(), fn, items, options, this.taskDefaults());
  }
}
