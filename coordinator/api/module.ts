import type { ShippableClass, ShippableFunction } from '../code/index.js';
import type { ClassRef } from './actor-handle.js';
import type { ModuleFunction } from './runnable.js';

export type { ModuleOptions } from '../code/module-options.js';

/** A module shipped with `cluster.module()`: its exports, as tasks. */
export interface TaskModule<M = Record<string, unknown>> {
  readonly hash: string;
  readonly exports: readonly string[];
  /**
   * A task running the named exported function; typed by the export when the module's type is
   * given (`cluster.module<typeof import('./tasks.js')>(url)`), any name and arguments otherwise.
   */
  fn<K extends FunctionKeys<M>>(name: K): ModuleFunction<Untyped<M> extends true ? UntypedFunction : M[K & keyof M] extends ShippableFunction ? M[K & keyof M] : never>;
  /** The named exported class, for `cluster.actor()`; typed like `fn`. */
  cls<K extends ClassKeys<M>>(name: K): ClassRef<Untyped<M> extends true ? UntypedClass : M[K & keyof M] extends ShippableClass ? M[K & keyof M] : never>;
}

/** A module given no type: `cluster.module(url)` without `<typeof import(...)>`. */
type Untyped<M> = string extends keyof M ? true : false;
type UntypedFunction = (...args: unknown[]) => unknown;
type UntypedClass = new (...args: unknown[]) => unknown;

type FunctionKeys<M> = Untyped<M> extends true ? string : { [K in keyof M]: M[K] extends ShippableFunction ? (M[K] extends ShippableClass ? never : K) : never }[keyof M] & string;
type ClassKeys<M> = Untyped<M> extends true ? string : { [K in keyof M]: M[K] extends ShippableClass ? K : never }[keyof M] & string;
