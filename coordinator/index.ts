/**
 * clustrix: warm agents on this machine, SSH hosts and HPC schedulers; fan out functions to them.
 *
 * ```ts
 * import { Cluster } from 'clustrix';
 * const cluster = await Cluster.start();                       // agents on every core of this machine
 * const squares = await cluster.map((x: number) => x * x, [1, 2, 3]);
 * await cluster.close();
 * ```
 */
export { Cluster } from './cluster.js';
export type { MapOptions, AgentInfo, TaskModule } from './cluster.js';
export { ClusterClient, ServiceLostError } from './client/index.js';
export type { ConnectOptions } from './client/index.js';
export type { Progress, ProgressOptions } from './progress.js';
export type { ClusterOptions } from './options.js';
export type { ModuleOptions } from './code/index.js';
export type { TaskOptions } from './task-options.js';
export type { TaskRef, Runnable } from './task-ref.js';
export type { StreamResult } from './fan-out.js';
export type { LogEntry } from './logs.js';
export { ActorHandle } from './actors/index.js';
export type { ActorOptions, ActorInfo, ActorProxy, ActorState, ClassRef } from './actors/index.js';
export {
  ClustrixError,
  ProtocolError,
  RemoteError,
  TimeoutError,
  CancelledError,
  AgentLostError,
  ActorDiedError,
  ClosureError,
  ConfigError,
  AuthError,
  JobStartError,
  ClusterClosedError,
  ValueTooLargeError,
  ModuleDependencyError,
} from './errors.js';
