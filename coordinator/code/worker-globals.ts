/**
 * Globals the agent's worker thread defines before it evaluates shipped code. The closure check
 * treats these names as available on the agent, so the two sides must agree: the agent imports
 * this list (and `installWorkerGlobals`) instead of keeping its own.
 *
 * - `require`: shipped code runs by indirect eval inside an ESM worker, where `require` does not
 *   exist; code written for CommonJS, or compiled to it, still calls it.
 * - `__name`: esbuild's keepNames helper (tsx, and any esbuild-compiled TypeScript) wraps nested
 *   functions and classes in `__name(fn, "name")`; the helper is defined once per file, outside
 *   the function whose source we ship.
 */
import { createRequire } from 'node:module';

export const WORKER_GLOBALS = ['require', '__name'] as const;

export type WorkerGlobal = (typeof WORKER_GLOBALS)[number];

/**
 * Defines every name in WORKER_GLOBALS on `target` (the worker's `globalThis`). `require`
 * resolves relative to `baseUrl`, e.g. the agent's code cache directory.
 */
export function installWorkerGlobals(target: object, baseUrl: string | URL): void {
  const values: Record<WorkerGlobal, unknown> = {
    require: createRequire(baseUrl),
    // Same semantics as esbuild's helper, so code compiled with keepNames keeps its names remotely.
    __name: <T extends object>(fn: T, value: string): T => Object.defineProperty(fn, 'name', { value, configurable: true }),
  };
  for (const name of WORKER_GLOBALS) {
    Object.defineProperty(target, name, { value: values[name], writable: true, configurable: true, enumerable: false });
  }
}
