/**
 * Code shipping: functions and classes travel by source, checked for captured variables first;
 * modules travel as one esbuild bundle with their imports. Everything is content-addressed, so
 * an agent is sent a given piece of code once.
 *
 * ```ts
 * import { captureFunction, bundleModule } from './code/index.js';
 * const { source, hash } = captureFunction((a: number, b: number) => a + b);
 * const tasks = await bundleModule(new URL('./tasks.ts', import.meta.url));
 * ```
 */
export { captureFunction, captureClass } from './function-source.js';
export type { CapturedFunction, ShippableFunction, ShippableClass } from './function-source.js';
export { findCapturedVariables } from './closure-check.js';
export { bundleModule } from './module-bundle.js';
export type { BundleOptions, BundledModule, ExternalPackage } from './module-bundle.js';
export type { ModuleOptions, ResolvedModuleOptions } from './module-options.js';
export { localEnvironment, unreachableEnvironment, serviceEnvironment } from './agent-environment.js';
export type { AgentEnvironment, ProjectFiles, ProbeFailure } from './agent-environment.js';
export { nativeReason } from './native-packages.js';
export { FunctionNotShippableError, ModuleBundleError } from './code-errors.js';
export type { BundleMessage } from './code-errors.js';
export { WORKER_GLOBALS, installWorkerGlobals } from './worker-globals.js';
export type { WorkerGlobal } from './worker-globals.js';
