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
export { Cluster } from './api/cluster.js';
export type { ClusterEvents } from './api/events.js';
export type { MapOptions, StreamResult } from './api/fan-out.js';
export type { TaskModule, ModuleOptions } from './api/module.js';
export type { Progress, ProgressOptions } from './api/progress.js';
export type { TaskOptions } from './api/task-options.js';
export type { ModuleFunction, RemoteFunction, Runnable } from './api/runnable.js';
export { ActorHandle } from './api/actor-handle.js';
export { ObjectRef, TaskRef } from './api/object-refs.js';
export type { WaitOptions, WaitResult } from './api/objects.js';
export type { ActorProxy, ClassRef } from './api/actor-handle.js';
export type { ActorOptions } from './api/actor-options.js';
export type { AdaptOptions, ScaleOptions } from './api/scale-options.js';
export type { ClusterOptions } from './config/options.js';
export type { ConnectOptions } from './transport/address.js';
export type { AgentInfo, PendingAgent, ActorInfo, ActorState, LogEntry, ObjectStats, LinkBytes, TaskHistory, TaskHistoryEntry, TaskOutcomeKind, ErrorSummary } from '../protocol/rows.js';
export type { HistoryOptions } from './api/history.js';
export type { DashboardAccess, DetachKind, DetachedRow } from '../protocol/rows.js';
export type { CallOptions, DetachedCall } from './api/detach.js';
export type { ErrorCode } from '../protocol/errors.js';
export {
  ClustrixError,
  ProtocolError,
  RemoteError,
  TimeoutError,
  CancelledError,
  ResultsExpiredError,
  AgentLostError,
  ActorDiedError,
  ActorNameTakenError,
  ClosureError,
  ConfigError,
  AuthError,
  JobStartError,
  PoolUnavailableError,
  ResourcesUnsatisfiableError,
  UnknownPoolError,
  ClusterClosedError,
  ServiceLostError,
  ValueTooLargeError,
  ArgsNotSerializableError,
  ResultNotSerializableError,
  ResultDecodeError,
  TaskSetupError,
  ModuleDependencyError,
  ObjectLostError,
  ObjectStoreFullError,
} from './errors/errors.js';
export type { FailedJob } from './errors/errors.js';
export { FunctionNotShippableError, ModuleBundleError } from './code/code-errors.js';
export { JobRejectedError, SchedulerCommandError } from './backends/launchers/batch/errors.js';
export { CommandTimeoutError } from './backends/launchers/command-timeout.js';
export { TunnelError } from './backends/connect/tunnel-error.js';
export { SshError } from './backends/ssh/errors.js';
export type { SshErrorCode } from './backends/ssh/errors.js';
