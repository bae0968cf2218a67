import { bundleModule, type ShippableClass, type ShippableFunction } from '../code/index.js';
import { ConfigError } from '../errors/errors.js';
import { makeClassRef, type ClassRef } from './actor-handle.js';
import { makeTaskRef, type TaskRef } from './task-ref.js';

/** Options of `cluster.module()`. */
export type ModuleOptions = Record<string, never>;

/** A module shipped with `cluster.module()`: its exports, as tasks. */
export interface TaskModule<M = Record<string, unknown>> {
  readonly hash: string;
  readonly exports: readonly string[];
  /** A task running the named exported function. */
  fn<K extends FunctionKeys<M>>(name: K): TaskRef<M[K] extends ShippableFunction ? M[K] : never>;
  /** The named exported class, for `cluster.actor()`. */
  cls<K extends ClassKeys<M>>(name: K): ClassRef<M[K] extends ShippableClass ? M[K] : never>;
}

type FunctionKeys<M> = { [K in keyof M]: M[K] extends ShippableFunction ? (M[K] extends ShippableClass ? never : K) : never }[keyof M] & string;
type ClassKeys<M> = { [K in keyof M]: M[K] extends ShippableClass ? K : never }[keyof M] & string;

/** Bundles `entry` with its imports; the result names its exports as tasks and actor classes. */
export async function bundleTaskModule<M>(entry: string | URL, _options?: ModuleOptions): Promise<TaskModule<M>> {
  const bundle = await bundleModule(entry);
  const code = { hash: bundle.hash, kind: 'module' as const, source: bundle.source, name: bundle.path };
  const exportsList = bundle.exports;
  const check = (name: string): void => {
    if (!exportsList.includes(name)) throw new ConfigError(`module ${bundle.path} has no export '${name}' (exports: ${exportsList.join(', ') || 'none'})`);
  };
  return {
    hash: bundle.hash,
    exports: exportsList,
    fn: (name) => (check(name), makeTaskRef(code, name)),
    cls: (name) => (check(name), makeClassRef(code, name)),
  };
}
