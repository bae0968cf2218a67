import { basename } from 'node:path';
import type { ActorInfo, LogEntry, ObjectStats } from '../../protocol/rows.js';
import { captureClass, type ShippableClass } from '../code/index.js';
import { resolveProfile } from '../config/index.js';
import { resolveClusterOptions, type ClusterOptions } from '../config/options.js';
import { ConfigError } from '../errors/errors.js';
import { EmbeddedTransport } from '../transport/embedded.js';
import { resolveAddress, type ConnectOptions } from '../transport/address.js';
import { RemoteTransport } from '../transport/remote.js';
import type { Transport } from '../transport/transport.js';
import { showOnly } from '../util/show-only.js';
import type { ActorHandle, ClassRef } from './actor-handle.js';
import { isClassRef } from './actor-handle.js';
import { resolveActorOptions, type ActorOptions } from './actor-options.js';
import { mapCall, streamCall, type MapOptions, type StreamResult } from './fan-out.js';
import { detachCall, detachFanOut, splitDetach, type CallOptions, type DetachedCall } from './detach.js';
import type { ModuleOptions, TaskModule } from './module.js';
import { shipModule } from '../code/ship-module.js';
import { closeOnSignals } from './signals.js';
import { resolveTaskOptions, type ResolvedTaskOptions, type TaskOptions } from './task-options.js';
import { codeOf, makeRemoteFunction, optionsOf, type RemoteFunction, type Runnable } from './runnable.js';
import type { WaitOptions, WaitResult } from './objects.js';
import { newObjectId, TaskRef, type ObjectRef, type RefArgs } from './object-refs.js';
import { ClusterCore } from './cluster-core.js';

type Instance<C> = C extends abstract new (...args: never[]) => infer I ? I : never;
type CtorArgs<C> = C extends abstract new (...args: infer A) => unknown ? A : never;

/**
 * A pool of warm agents and everything that runs on it. `Cluster.start()` runs the coordinator in
 * this program (agents on every core of this machine by default); `Cluster.connect()` attaches to
 * a long-lived service (`clustrix up`). Both return this same type: every method, option, error
 * and event behaves the same, and whatever may cross a wire is async in both.
 * The calls that run code are here; the pool- and service-facing methods and the shared state in
 * cluster-core.ts.
 */
export class Cluster extends ClusterCore {
  static {
    showOnly(this.prototype, 'Cluster', (c) => ({ id: c.id, mode: c.mode, backend: c.backend, agents: c.latestAgents.length }));
  }

  private defaults: ResolvedTaskOptions | null = null;

  private constructor(transport: Transport, onLog: ((entry: LogEntry) => void) | null) {
    super(transport, onLog);
  }

  /** Starts a coordinator in this program and its agents; resolves once every agent has connected. */
  static async start(options?: ClusterOptions): Promise<Cluster> {
    if (options !== undefined && (typeof options !== 'object' || options === null)) throw new ConfigError('Cluster.start options must be an object');
    // A profile from the config file, under the options given here (a no-op without `profile`).
    const resolved = resolveClusterOptions(resolveProfile(options ?? {}));
    const cluster = new Cluster(await EmbeddedTransport.start(resolved), resolved.onLog);
    // Jobs on a scheduler outlive this process unless cancelled: close on Ctrl-C and kill too.
    if (resolved.backend !== 'local') closeOnSignals(cluster);
    await cluster.refreshAgents();
    return cluster;
  }

  /**
   * Attaches to a running clustrix service (`clustrix up <profile>`): the same API, on its warm
   * pool. The address comes from `options`, from `CLUSTRIX_ADDRESS`, or from the service's state
   * file (`profile`, `CLUSTRIX_PROFILE`, or the one service running).
   */
  static async connect(options?: ConnectOptions): Promise<Cluster> {
    const target = await resolveAddress(options);
    const name = options?.name ?? `${basename(process.argv[1] ?? 'node')} (pid ${process.pid})`;
    const cluster = new Cluster(await RemoteTransport.open(target.address, target.credential, name), options?.onLog ?? null);
    await cluster.refreshAgents();
    return cluster;
  }

  /** Runs `fn(...args)` on an agent. */
  run<A extends unknown[], R>(fn: Runnable<A, R>, ...args: RefArgs<A>): Promise<Awaited<R>> {
    return this.call(fn, args);
  }

  /**
   * Runs `fn(...args)` on an agent with options for this call (timeoutMs, retries, signal, inline...):
   * `run` with the arguments as a list. The options of a `remote()` function apply under these.
   * With `{ detach: true }` (connected only) the task runs in the service on its own and this
   * resolves with its `{ id, kind: 'call' }` at once: `collect(id)` from any client gets the value.
   */
  call<A extends unknown[], R>(fn: Runnable<A, R>, args: RefArgs<A>, options: CallOptions & { detach: true }): Promise<DetachedCall>;
  call<A extends unknown[], R>(fn: Runnable<A, R>, args: RefArgs<A>, options?: CallOptions): Promise<Awaited<R>>;
  call<A extends unknown[], R>(fn: Runnable<A, R>, args: RefArgs<A>, options?: CallOptions): Promise<Awaited<R> | DetachedCall> {
    try {
      const { code, exportName } = codeOf(fn);
      if (!Array.isArray(args)) throw new ConfigError(`call(fn, args, options): args must be the list of arguments, got ${typeof args}`);
      const { detach, taskOptions } = splitDetach(options);
      const resolved = this.optionsFor(fn, taskOptions);
      if (detach) {
        this.assertOpen();
        return detachCall(this.transport, this.values, fn, args, resolved);
      }
      return this.caller.submit(code, exportName, args, resolved).result as Promise<Awaited<R>>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Starts `fn(...args)` on an agent now; the result stays on the cluster. `await ref` gives it
   * (fetched only then); passed to another task, it is resolved on that task's agent.
   */
  submit<A extends unknown[], R>(fn: Runnable<A, R>, ...args: RefArgs<A>): TaskRef<Awaited<R>> {
    this.assertOpen();
    const { code, exportName } = codeOf(fn);
    const id = newObjectId();
    const made = this.caller.submitRef(code, exportName, args, this.optionsFor(fn), id);
    return this.objects.refs.create(TaskRef, id, made) as TaskRef<Awaited<R>>;
  }

  /** Keeps `value` on the cluster once; pass the ref to many tasks instead of the value. */
  put<T>(value: T): ObjectRef<T> {
    this.assertOpen();
    return this.objects.put(value);
  }

  /** Resolves once `count` of the refs are done (made or failed; default all), or after `timeoutMs`. */
  wait<R extends ObjectRef>(refs: readonly R[], options?: WaitOptions): Promise<WaitResult<R>> {
    try {
      this.assertOpen();
      return this.objects.wait(refs, options);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Yields each ref as it is done (made or failed), in completion order. */
  asCompleted<R extends ObjectRef>(refs: readonly R[]): AsyncIterableIterator<R> {
    this.assertOpen();
    return this.objects.asCompleted(refs);
  }

  /** The values kept on the cluster: how many, the coordinator's bytes, what each agent holds. */
  async objectStats(): Promise<ObjectStats> {
    this.assertOpen();
    return this.objects.stats();
  }

  /**
   * A function that runs `fn` on an agent with these options each time it is called. It can be
   * passed wherever a function goes (`map`, `stream`, `broadcast`, `call`), its options with it.
   */
  remote<A extends unknown[], R>(fn: Runnable<A, R>, options?: TaskOptions): RemoteFunction<A, R> {
    const { code, exportName } = codeOf(fn);
    const given = { ...optionsOf(fn)?.options, ...options };
    const resolved = resolveTaskOptions(given, { retries: this.transport.info.retries });
    const call = (...args: A): Promise<Awaited<R>> => {
      try {
        return this.caller.submit(code, exportName, args, resolved).result as Promise<Awaited<R>>;
      } catch (err) {
        return Promise.reject(err);
      }
    };
    return makeRemoteFunction(call, { code, exportName, options: given, resolved });
  }

  /**
   * `fn` over every item; results in input order. The first failure rejects and cancels the rest.
   * `options.args` are passed after the item to every call: `map(scale, xs, { args: [10] })` runs
   * `scale(x, 10)` for each x. With `{ detach: true }` (connected only) the call runs in the
   * service on its own and this resolves with its `{ id, kind: 'map' }` at once: `collect(id)`
   * from any client gets the results.
   */
  map<T, R, E extends unknown[] = []>(fn: Runnable<[T, ...E], R>, items: Iterable<T | ObjectRef<T>> | AsyncIterable<T | ObjectRef<T>>, options: MapOptions<RefArgs<E>> & { detach: true }): Promise<DetachedCall>;
  map<T, R, E extends unknown[] = []>(fn: Runnable<[T, ...E], R>, items: Iterable<T | ObjectRef<T>> | AsyncIterable<T | ObjectRef<T>>, options?: MapOptions<RefArgs<E>>): Promise<Awaited<R>[]>;
  async map<T, R, E extends unknown[] = []>(fn: Runnable<[T, ...E], R>, items: Iterable<T | ObjectRef<T>> | AsyncIterable<T | ObjectRef<T>>, options?: MapOptions<RefArgs<E>>): Promise<Awaited<R>[] | DetachedCall> {
    if (options?.detach === true) {
      this.assertOpen();
      return detachFanOut(this.transport, this.values, 'map', fn, items, options as MapOptions, this.fanOutDefaults(fn));
    }
    this.assertOpen();
    return mapCall<Awaited<R>>(this.caller, fn, items, options, this.fanOutDefaults(fn));
  }

  /**
   * `fn` over every item; yields `{ index, value }` as each finishes (completion order). With
   * `{ detach: true }` (connected only) the call runs in the service on its own and this resolves
   * with its `{ id, kind: 'stream' }` at once: `collectStream(id)` from any client yields the results.
   */
  stream<T, R, E extends unknown[] = []>(fn: Runnable<[T, ...E], R>, items: Iterable<T | ObjectRef<T>> | AsyncIterable<T | ObjectRef<T>>, options: MapOptions<RefArgs<E>> & { detach: true }): Promise<DetachedCall>;
  stream<T, R, E extends unknown[] = []>(fn: Runnable<[T, ...E], R>, items: Iterable<T | ObjectRef<T>> | AsyncIterable<T | ObjectRef<T>>, options?: MapOptions<RefArgs<E>>): AsyncGenerator<StreamResult<Awaited<R>>>;
  stream<T, R, E extends unknown[] = []>(fn: Runnable<[T, ...E], R>, items: Iterable<T | ObjectRef<T>> | AsyncIterable<T | ObjectRef<T>>, options?: MapOptions<RefArgs<E>>): AsyncGenerator<StreamResult<Awaited<R>>> | Promise<DetachedCall> {
    if (options?.detach === true) {
      try {
        this.assertOpen();
        return detachFanOut(this.transport, this.values, 'stream', fn, items, options as MapOptions, this.fanOutDefaults(fn));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    this.assertOpen();
    return streamCall<Awaited<R>>(this.caller, fn, items, options, this.fanOutDefaults(fn));
  }

  /**
   * `fn` over several iterables in step: `zipMap(f, [xs, ys])` runs `f(xs[i], ys[i])` for each i;
   * results in input order. The iterables must be the same length (a ConfigError says which ended
   * first); `options.args` are passed after them.
   */
  async zipMap<I extends unknown[], R, E extends unknown[] = []>(
    fn: Runnable<[...I, ...E], R>,
    iterables: { [K in keyof I]: Iterable<I[K]> | AsyncIterable<I[K]> },
    options?: MapOptions<E>,
  ): Promise<Awaited<R>[]> {
    this.assertOpen();
    return mapCall<Awaited<R>>(this.caller, fn, iterables, options, { ...this.fanOutDefaults(fn), zip: true });
  }

  /** Runs `fn(...args)` once on every ready agent; one result per agent, in `agents()` order. */
  async broadcast<A extends unknown[], R>(fn: Runnable<A, R>, ...args: RefArgs<A>): Promise<Awaited<R>[]> {
    const { code, exportName } = codeOf(fn);
    return (await this.caller.broadcast(code, exportName, args, this.optionsFor(fn))) as Awaited<R>[];
  }

  /**
   * Constructs an actor (an instance of `cls` living on one agent, keeping its state between
   * calls); resolves with its handle once the constructor has run there. An unnamed actor belongs
   * to this cluster (a connected client's die with it); a named one stays for `getActor(name)`.
   */
  async actor<C extends ShippableClass>(cls: C | ClassRef<C>, options?: ActorOptions<CtorArgs<C>>): Promise<ActorHandle<Instance<C>>> {
    this.assertOpen();
    const resolved = resolveActorOptions(options as ActorOptions | undefined);
    if (isClassRef(cls)) return (await this.actorsOf.create({ ...cls.code, name: cls.exportName }, cls.exportName, resolved)) as ActorHandle<Instance<C>>;
    if (typeof cls !== 'function') throw new ConfigError('cluster.actor needs a class, or a module class from tasks.cls(name)');
    const captured = captureClass(cls);
    const code = { hash: captured.hash, kind: 'function' as const, source: captured.source, name: captured.name || 'anonymous class' };
    return (await this.actorsOf.create(code, null, resolved)) as ActorHandle<Instance<C>>;
  }

  /** The live actor registered under `name` (by any program of a shared pool), if any. */
  async getActor<T = unknown>(name: string): Promise<ActorHandle<T> | undefined> {
    this.assertOpen();
    if (typeof name !== 'string' || name.length === 0) throw new ConfigError('getActor needs a non-empty name');
    return (await this.actorsOf.get(name)) as ActorHandle<T> | undefined;
  }

  /** Every actor of the pool, live or dead: id, name, class, agent, state, calls served, restarts. */
  async actors(): Promise<ActorInfo[]> {
    this.assertOpen();
    return this.actorsOf.list();
  }

  /**
   * Bundles a TS/JS module with its imports (esbuild); its exports run as tasks, shipped once per
   * agent. Packages that cannot be bundled (native addons, or `external`) stay external and are
   * made loadable where the agents run, or module() fails now, naming them.
   */
  module<M = Record<string, unknown>>(entry: string | URL, options?: ModuleOptions): Promise<TaskModule<M>> {
    return shipModule<M>(entry, options, this.transport.agentEnvironments);
  }

  /** The options of one call: those given, over a remote() function's own, over the defaults. */
  private optionsFor(fn: unknown, options?: TaskOptions): ResolvedTaskOptions {
    const own = optionsOf(fn);
    if (options === undefined) {
      if (own) return own.resolved;
      this.defaults ??= resolveTaskOptions(undefined, { retries: this.transport.info.retries });
      return this.defaults;
    }
    return resolveTaskOptions({ ...own?.options, ...options }, { retries: this.transport.info.retries });
  }

  private fanOutDefaults(fn: unknown): { retries: number; totalSlots: number; base: TaskOptions } {
    return { retries: this.transport.info.retries, totalSlots: this.totalSlots(), base: optionsOf(fn)?.options ?? {} };
  }
}
