import { captureFunction, type ShippableFunction } from '../code/index.js';
import type { ShippedCode } from '../engine/task.js';
import { ConfigError } from '../errors/errors.js';
import { show } from '../config/issues.js';

const MODULE_FUNCTION = Symbol.for('clustrix.module-function');

/** A function exported by a module shipped with `cluster.module()`; typed by the export. */
export interface ModuleFunction<F extends ShippableFunction = ShippableFunction> {
  readonly [MODULE_FUNCTION]: true;
  readonly code: ShippedCode;
  readonly exportName: string;
  /** Type-only: the export's signature. */
  readonly __fn?: F;
}

/** Something that can run as a task: a self-contained function, or a module export. */
export type Runnable<A extends unknown[], R> = ((...args: A) => R) | ModuleFunction<(...args: A) => R>;

export function makeModuleFunction<F extends ShippableFunction>(code: ShippedCode, exportName: string): ModuleFunction<F> {
  return { [MODULE_FUNCTION]: true, code, exportName } as ModuleFunction<F>;
}

export function isModuleFunction(value: unknown): value is ModuleFunction {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MODULE_FUNCTION] === true;
}

/** Resolves what to ship for a runnable: the module and export, or the function's own source. */
export function codeOf(runnable: unknown): { code: ShippedCode; exportName: string | null } {
  if (isModuleFunction(runnable)) return { code: runnable.code, exportName: runnable.exportName };
  if (typeof runnable !== 'function') {
    throw new ConfigError(`expected a function or a module export (tasks.fn('name')), got ${show(runnable)}`);
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
