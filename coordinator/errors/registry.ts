/**
 * One code → class registry, used for the wire in both directions: a service turns an error into
 * its code, message, hint and the class's own fields; a client rebuilds the same class with the
 * same fields, so `instanceof` and every field survive `Cluster.connect()`.
 */
import type { RemoteErrorInfo } from '../../protocol/common.js';
import { ClustrixError, ProtocolError, type ErrorCode } from '../../protocol/errors.js';
import type { WireError } from '../../protocol/service-messages.js';
import { FunctionNotShippableError, ModuleBundleError } from '../code/code-errors.js';
import { TunnelError } from '../backends/connect/tunnel-error.js';
import {
  ActorDiedError,
  ActorNameTakenError,
  AgentLostError,
  ArgsNotSerializableError,
  AuthError,
  CancelledError,
  ResultsExpiredError,
  ClosureError,
  ClusterClosedError,
  ConfigError,
  JobStartError,
  ObjectLostError,
  ObjectStoreFullError,
  ModuleDependencyError,
  PoolUnavailableError,
  ResourcesUnsatisfiableError,
  RemoteError,
  ResultDecodeError,
  ResultNotSerializableError,
  ServiceLostError,
  TaskSetupError,
  TimeoutError,
  UnknownPoolError,
  ValueTooLargeError,
} from './errors.js';
import { JobRejectedError, SchedulerCommandError } from '../backends/launchers/batch/errors.js';
import { CommandTimeoutError } from '../backends/launchers/command-timeout.js';
import { SshError } from '../backends/ssh/errors.js';

type ErrorClass = abstract new (...args: never[]) => ClustrixError;

interface Entry {
  Class: ErrorClass;
  /** The class's own fields (plain data) that travel with it. */
  fields: readonly string[];
}

const entry = (Class: ErrorClass, ...fields: string[]): Entry => ({ Class, fields });
const ssh = entry(SshError, 'target', 'fingerprint', 'authTried');

/** Every code with its class; a code without one fails the build. */
export const ERROR_CLASSES: Readonly<Record<ErrorCode, Entry>> = {
  REMOTE_ERROR: entry(RemoteError, 'remoteName', 'remoteMessage', 'remoteStack', 'remoteCode', 'taskId', 'agentId'),
  TASK_TIMEOUT: entry(TimeoutError, 'timeoutMs'),
  CANCELLED: entry(CancelledError),
  RESULTS_EXPIRED: entry(ResultsExpiredError, 'callId'),
  AGENT_LOST: entry(AgentLostError, 'agentId'),
  ACTOR_DIED: entry(ActorDiedError, 'actorId'),
  ACTOR_NAME_TAKEN: entry(ActorNameTakenError, 'actorName'),
  CLOSURE_CAPTURE: entry(ClosureError, 'variables'),
  FUNCTION_NOT_SHIPPABLE: entry(FunctionNotShippableError, 'functionName'),
  MODULE_BUNDLE_FAILED: entry(ModuleBundleError, 'file', 'messages'),
  MODULE_DEPENDENCY_UNAVAILABLE: entry(ModuleDependencyError, 'packages', 'output'),
  ARGS_NOT_SERIALIZABLE: entry(ArgsNotSerializableError, 'path'),
  RESULT_NOT_SERIALIZABLE: entry(ResultNotSerializableError, 'path'),
  RESULT_DECODE_FAILED: entry(ResultDecodeError),
  VALUE_TOO_LARGE: entry(ValueTooLargeError, 'what'),
  TASK_SETUP_FAILED: entry(TaskSetupError, 'agentId'),
  CONFIG_INVALID: entry(ConfigError),
  AUTH_FAILED: entry(AuthError),
  PROTOCOL_ERROR: entry(ProtocolError, 'closeCode'),
  PROTOCOL_VERSION_MISMATCH: entry(ProtocolError, 'closeCode'),
  JOB_FAILED_TO_START: entry(JobStartError, 'jobId', 'state', 'output'),
  JOB_REJECTED: entry(JobRejectedError, 'scheduler', 'stderr', 'exitCode', 'scriptPath'),
  SCHEDULER_COMMAND_FAILED: entry(SchedulerCommandError, 'command', 'stderr', 'exitCode'),
  COMMAND_TIMEOUT: entry(CommandTimeoutError, 'command', 'timeoutMs'),
  TUNNEL_FAILED: entry(TunnelError, 'output'),
  CLUSTER_CLOSED: entry(ClusterClosedError),
  SERVICE_LOST: entry(ServiceLostError),
  OBJECT_LOST: entry(ObjectLostError, 'objectId'),
  POOL_UNKNOWN: entry(UnknownPoolError, 'pool', 'pools'),
  OBJECT_STORE_FULL: entry(ObjectStoreFullError),
  POOL_UNAVAILABLE: entry(PoolUnavailableError, 'agentsLost', 'replacementsTried', 'lastLaunchError', 'lastFailedJob'),
  RESOURCES_UNSATISFIABLE: entry(ResourcesUnsatisfiableError, 'missing'),
  SSH_DNS: ssh,
  SSH_REFUSED: ssh,
  SSH_UNREACHABLE: ssh,
  SSH_TIMEOUT: ssh,
  SSH_AUTH: ssh,
  SSH_HOST_KEY_UNKNOWN: ssh,
  SSH_HOST_KEY_CHANGED: ssh,
  SSH_HOST_KEY_REVOKED: ssh,
  SSH_CLOSED: ssh,
  SSH_EXEC: ssh,
  SSH_SFTP: ssh,
  SSH_FORWARD: ssh,
  SSH_CONFIG: ssh,
};

function isCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CLASSES, code);
}

/** An error as it goes to a client. Anything that is not a ClustrixError is a bug here: it says so. */
export function toWireError(err: unknown): WireError {
  if (!(err instanceof ClustrixError) || !isCode(err.code)) {
    const e = err instanceof Error ? err : new Error(String(err));
    return { code: 'INTERNAL', name: e.name, message: `internal error in the clustrix service: ${e.message}`, fields: {} };
  }
  const fields: Record<string, unknown> = {};
  for (const f of ERROR_CLASSES[err.code].fields) {
    const value = (err as unknown as Record<string, unknown>)[f];
    if (value !== undefined) fields[f] = value;
  }
  const out: WireError = { code: err.code, name: err.name, message: err.message, fields };
  if (err.hint !== undefined) out.hint = err.hint;
  if (err instanceof RemoteError) out.remote = remoteInfo(err);
  return out;
}

/**
 * The same class again, with the same message, hint and fields. Built without running its
 * constructor (whose signature is the class's own business): a real Error whose prototype is the
 * class's, as `new` would make it.
 */
export function fromWireError(w: WireError): ClustrixError {
  if (w.code === 'REMOTE_ERROR' && w.remote) {
    const taskId = typeof w.fields.taskId === 'string' ? w.fields.taskId : '?';
    const agentId = typeof w.fields.agentId === 'string' ? w.fields.agentId : '?';
    return new RemoteError(w.remote, { taskId, agentId });
  }
  const Class: ErrorClass = isCode(w.code) ? ERROR_CLASSES[w.code].Class : ClustrixError;
  const err = Reflect.construct(Error, [w.message], Class) as ClustrixError;
  const known = isCode(w.code) ? ERROR_CLASSES[w.code].fields : [];
  const own: Record<string, unknown> = { name: w.name, code: w.code, hint: w.hint };
  for (const f of known) if (f in w.fields) own[f] = w.fields[f];
  for (const [k, v] of Object.entries(own)) Object.defineProperty(err, k, { value: v, enumerable: k !== 'name', writable: true, configurable: true });
  // The stack was captured under Error's name; it is this side's (the caller's) stack.
  if (typeof err.stack === 'string') err.stack = err.stack.replace(/^Error/, w.name);
  return err;
}

function remoteInfo(err: RemoteError): RemoteErrorInfo {
  const info: RemoteErrorInfo = { name: err.remoteName, message: err.remoteMessage };
  if (err.remoteStack !== undefined) info.stack = err.remoteStack;
  if (err.remoteCode !== undefined) info.code = err.remoteCode;
  if (err.cause instanceof RemoteError) info.cause = remoteInfo(err.cause);
  return info;
}
