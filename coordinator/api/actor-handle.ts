import type { ActorState } from '../../protocol/rows.js';
import { ActorRef, registerActorHandleClass } from '../../protocol/values.js';
import type { ShippableClass } from '../code/index.js';
import type { ShippedCode } from '../engine/task.js';
import type { RefArgs } from './object-refs.js';

/** Names of the methods of T. */
export type MethodNames<T> = { [K in keyof T]: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T] & string;
/** A method's arguments, each one a value or a ref to one (resolved on the actor's agent). */
export type MethodArgs<T, K extends keyof T> = T[K] extends (...args: infer A) => unknown ? RefArgs<A> : never;
export type MethodResult<T, K extends keyof T> = T[K] extends (...args: never[]) => infer R ? Awaited<R> : never;

/** `handle.proxy`: each method of the class, returning a promise of its result. */
export type ActorProxy<T> = { readonly [K in MethodNames<T>]: (...args: MethodArgs<T, K>) => Promise<MethodResult<T, K>> };

export type { ActorState };

/** What a handle needs from its cluster (api/actors.ts implements it). */
export interface ActorBackend {
  call(actorId: string, method: string, args: unknown[]): Promise<unknown>;
  kill(actorId: string): Promise<void>;
  restartsOf(actorId: string): number;
  restoredFromOf(actorId: string): number | null;
  stateOf(actorId: string): ActorState;
}

const CLASS_REF = Symbol.for('clustrix.class-ref');

/** Names tools probe on any object (promises, JSON, test matchers, React): never actor methods. */
const NOT_METHODS = new Set(['then', 'toJSON', 'constructor', 'asymmetricMatch', '$$typeof', 'nodeType', 'inspect', 'valueOf', 'toString']);

/** A class exported by a module shipped with `cluster.module()`. */
export interface ClassRef<C extends ShippableClass = ShippableClass> {
  readonly [CLASS_REF]: true;
  readonly code: ShippedCode;
  readonly exportName: string;
  /** Type-only: the class. */
  readonly __class?: C;
}

export function makeClassRef<C extends ShippableClass>(code: ShippedCode, exportName: string): ClassRef<C> {
  return { [CLASS_REF]: true, code, exportName } as ClassRef<C>;
}

export function isClassRef(value: unknown): value is ClassRef {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[CLASS_REF] === true;
}

/**
 * A live actor. Calls run on the actor's agent one at a time, in the order they were made (or up to
 * `maxConcurrency` at once); they may be issued without awaiting each. A handle can be passed to a
 * task or another actor as an argument: calls made there reach the same actor through the
 * coordinator.
 */
export class ActorHandle<T = unknown> {
  readonly actorRef: ActorRef;
  /** Each method of the class as a function returning a promise. */
  declare readonly proxy: ActorProxy<T>;
  declare private readonly backend: ActorBackend;

  constructor(
    readonly id: string,
    readonly name: string | null,
    readonly className: string,
    backend: ActorBackend,
  ) {
    this.actorRef = new ActorRef(id, name);
    // Not enumerable: printing or diffing a handle must not walk into the proxy (every name on it
    // is a method) or the whole cluster behind it.
    Object.defineProperty(this, 'backend', { value: backend, enumerable: false });
    Object.defineProperty(this, 'proxy', {
      enumerable: false,
      value: new Proxy({} as ActorProxy<T>, {
        get: (_, method) => (typeof method === 'string' && !NOT_METHODS.has(method) ? (...args: unknown[]) => backend.call(id, method, args) : undefined),
      }),
    });
  }

  /** How many times the actor was constructed again after losing its agent. */
  get restarts(): number {
    return this.backend.restartsOf(this.id);
  }

  /**
   * After a restart: the number of calls its restored checkpoint had seen (`checkpoint` option);
   * null when it began from its constructor.
   */
  get restoredFrom(): number | null {
    return this.backend.restoredFromOf(this.id);
  }

  get state(): ActorState {
    return this.backend.stateOf(this.id);
  }

  call<K extends MethodNames<T>>(method: K, ...args: MethodArgs<T, K>): Promise<MethodResult<T, K>> {
    return this.backend.call(this.id, method, args) as Promise<MethodResult<T, K>>;
  }

  /** Ends the actor; pending and later calls reject with ActorDiedError. */
  kill(): Promise<void> {
    return this.backend.kill(this.id);
  }
}

registerActorHandleClass(ActorHandle);
