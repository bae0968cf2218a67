import { captureFunction, type ShippableFunction } from '../code/index.js';
import type { ShippedCode } from '../engine/task.js';
import { ConfigError } from '../errors/errors.js';
import { show } from '../config/issues.js';
import type { ResolvedTaskOptions, TaskOptions } from './task-options.js';

const MODULE_FUNCTION = Symbol.for('clustrix.module-function');
const REMOTE_FUNCTION = Symbol.for('clustrix.remote-function');

/** A function exported by a module shipped with `cluster.module()`; typed by the export. */
export interface ModuleFunction<F extends ShippableFunction = ShippableFunction> {
  readonly [MODULE_FUNCTION]: true;
  readonly code: ShippedCode;
  readonly exportName: string;
  /** Type-only: the export's signature. */
  readonly __fn?: F;
}

/** Something that can run as a task: a self-contained function, a module export, or a `cluster.remote()` function. */
export type Runnable<A extends unknown[], R> = ((...args: A) => R) | ModuleFunction<(...args: A) => R>;

/** What `cluster.remote(fn, options)` returns: callable, and usable wherever a function goes (its options apply there too). */
export type RemoteFunction<A extends unknown[], R> = ((...args: A) => Promise<Awaited<R>>) & { readonly [REMOTE_FUNCTION]: RemoteTarget };

interface RemoteTarget {
  code: ShippedCode;
  exportName: string | null;
  /** The options given to remote(), under any given where it is used; and resolved, for use as they are. */
  options: TaskOptions;
  resolved: ResolvedTaskOptions;
}

export function makeRemoteFunction<A extends unknown[], R>(call: (...args: A) => Promise<Awaited<R>>, target: RemoteTarget): RemoteFunction<A, R> {
  return Object.assign(call, { [REMOTE_FUNCTION]: target });
}

/** The options a remote() function carries (given and resolved); null for anything else. */
export function optionsOf(runnable: unknown): { options: TaskOptions; resolved: ResolvedTaskOptions } | null {
  return isRemoteFunction(runnable) ? runnable[REMOTE_FUNCTION] : null;
}

function isRemoteFunction(value: unknown): value is RemoteFunction<unknown[], unknown> {
  return typeof value === 'function' && REMOTE_FUNCTION in value;
}

export function makeModuleFunction<F extends ShippableFunction>(code: ShippedCode, exportName: string): ModuleFunction<F> {
  return { [MODULE_FUNCTION]: true, code, exportName } as ModuleFunction<F>;
}

export function isModuleFunction(value: unknown): value is ModuleFunction {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MODULE_FUNCTION] === true;
}

/** Resolves what to ship for a runnable: the module and export, or the function's own source. */
export function codeOf(runnable: unknown): { code: ShippedCode; exportName: string | null } {
  if (isModuleFunction(runnable)) return { code: runnable.code, exportName: runnable.exportName };
  // A remote() function's own source is clustrix's wrapper: ship what it wraps.
  if (isRemoteFunction(runnable)) return { code: runnable[REMOTE_FUNCTION].code, exportName: runnable[REMOTE_FUNCTION].exportName };
  if (typeof runnable !== 'function') {
    throw new ConfigError(`expected a function, a module export (tasks.fn('name')) or a cluster.remote() function, got ${show(runnable)}`);
  }
  // A function literal in a loop is a new object each time: look it up by its text too.
  const text = Function.prototype.toString.call(runnable);
  let code = bySource.get(text);
  if (!code) {
    const captured = captureFunction(runnable as ShippableFunction);
    code = { hash: captured.hash, kind: 'function', source: captured.source, name: captured.name || 'anonymous function' };
    if (bySource.size >= SOURCE_CACHE_SIZE) bySource.delete(bySource.keys().next().value!);
    bySource.set(text, code);
  }
  return { code, exportName: null };
}

const SOURCE_CACHE_SIZE = 4096;
const bySource = new Map<string, ShippedCode>();
