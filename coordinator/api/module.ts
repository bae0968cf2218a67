import type { ShippableClass, ShippableFunction } from '../code/index.js';
import type { ClassRef } from './actor-handle.js';
import type { ModuleFunction } from './runnable.js';

export type { ModuleOptions } from '../code/module-options.js';

/** A module shipped with `cluster.module()`: its exports, as tasks. */
export interface TaskModule<M = Record<string, unknown>> {
  readonly hash: string;
  readonly exports: readonly string[];
  /** A task running the named exported function. */
  fn<K extends FunctionKeys<M>>(name: K): ModuleFunction<M[K] extends ShippableFunction ? M[K] : never>;
  /** The named exported class, for `cluster.actor()`. */
  cls<K extends ClassKeys<M>>(name: K): ClassRef<M[K] extends ShippableClass ? M[K] : never>;
}

type FunctionKeys<M> = { [K in keyof M]: M[K] extends ShippableFunction ? (M[K] extends ShippableClass ? never : K) : never }[keyof M] & string;
type ClassKeys<M> = { [K in keyof M]: M[K] extends ShippableClass ? K : never }[keyof M] & string;
