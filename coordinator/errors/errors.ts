import { ClustrixError } from '../../protocol/errors.js';
import type { RemoteErrorInfo } from '../../protocol/common.js';

export { ClustrixError };
export { ProtocolError } from '../../protocol/errors.js';

/** The task's own function threw (or rejected) on the agent. */
export class RemoteError extends ClustrixError {
  /** The remote error's class name, e.g. `TypeError`. */
  readonly remoteName: string;
  readonly remoteMessage: string;
  readonly remoteStack: string | undefined;
  /** The remote error's own `code` property, if it had one. */
  readonly remoteCode: string | undefined;
  /** The task (or actor call) that threw, and the agent it ran on. */
  readonly taskId: string;
  readonly agentId: string;

  constructor(info: RemoteErrorInfo, context: { taskId: string; agentId: string }) {
    super('REMOTE_ERROR', `${info.name}: ${info.message} (task ${context.taskId} on agent ${context.agentId})`, {
      cause: info.cause ? RemoteError.fromCause(info.cause, context) : undefined,
    });
    this.name = 'RemoteError';
    this.remoteName = info.name;
    this.remoteMessage = info.message;
    this.remoteStack = info.stack;
    this.remoteCode = info.code;
    this.taskId = context.taskId;
    this.agentId = context.agentId;
    if (info.stack) this.stack = `${this.stack ?? ''}\n  --- remote stack ---\n${info.stack}`;
  }

  private static fromCause(info: RemoteErrorInfo, context: { taskId: string; agentId: string }): RemoteError {
    return new RemoteError(info, context);
  }
}

/** An attempt ran past its `timeoutMs`; its worker thread was terminated. */
export class TimeoutError extends ClustrixError {
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number) {
    super('TASK_TIMEOUT', message, { hint: 'raise timeoutMs, or split the work into smaller tasks' });
    this.name = 'TimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** The task was cancelled by an AbortSignal, by a failing sibling in a map, or by close(). */
export class CancelledError extends ClustrixError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CANCELLED', message, options);
    this.name = 'CancelledError';
  }
}

/** The agent running the task was lost more times than the task's `retries` allow. */
export class AgentLostError extends ClustrixError {
  readonly agentId: string;
  constructor(message: string, agentId: string, options?: { cause?: unknown }) {
    super('AGENT_LOST', message, { ...options, hint: 'check the agent logs (node crash, out of memory, job killed), or raise retries' });
    this.name = 'AgentLostError';
    this.agentId = agentId;
  }
}

/** An actor's agent was lost (and its restart budget spent), or the actor was killed. */
export class ActorDiedError extends ClustrixError {
  readonly actorId: string;
  constructor(message: string, actorId: string, options?: { cause?: unknown; hint?: string }) {
    super('ACTOR_DIED', message, options);
    this.name = 'ActorDiedError';
    this.actorId = actorId;
  }
}

/** An actor of that name is alive already (pass `getIfExists: true` to get it instead). */
export class ActorNameTakenError extends ClustrixError {
  readonly actorName: string;
  constructor(actorName: string) {
    super('ACTOR_NAME_TAKEN', `an actor named '${actorName}' already exists`, { hint: 'use cluster.getActor(name), pass getIfExists: true, or choose another name' });
    this.name = 'ActorNameTakenError';
    this.actorName = actorName;
  }
}

/** A function shipped by source reads a variable from its enclosing scope. */
export class ClosureError extends ClustrixError {
  readonly variables: readonly string[];
  constructor(functionName: string, variables: readonly string[]) {
    const list = variables.map((v) => `'${v}'`).join(', ');
    super(
      'CLOSURE_CAPTURE',
      `${functionName} reads ${list} from its enclosing scope, which does not travel with its source`,
      {
        // Functions, classes and Promises cannot be arguments (ARGS_NOT_SERIALIZABLE): the hint
        // must not send a captured helper function down that path.
        hint: `if ${list} ${variables.length === 1 ? 'is' : 'are'} data, pass ${variables.length === 1 ? 'it' : 'them'} as arguments; a captured function or class cannot travel as an argument: define it inside the function, or put both in a module and use cluster.module(url)`,
      },
    );
    this.name = 'ClosureError';
    this.variables = variables;
  }
}

/** An option or config file is invalid. */
export class ConfigError extends ClustrixError {
  constructor(message: string, options?: { cause?: unknown; hint?: string }) {
    super('CONFIG_INVALID', message, options);
    this.name = 'ConfigError';
  }
}

/** An agent presented a wrong credential, or none in time. */
export class AuthError extends ClustrixError {
  constructor(message: string) {
    super('AUTH_FAILED', message, { hint: 'agents must use the token of the cluster that launched them' });
    this.name = 'AuthError';
  }
}

/** A batch job or agent process ended before its agent connected. */
export class JobStartError extends ClustrixError {
  readonly jobId: string;
  readonly state: string;
  /** The last lines of the job's stdout and stderr. */
  readonly output: string;
  constructor(message: string, details: { jobId: string; state: string; output: string; hint?: string }) {
    super('JOB_FAILED_TO_START', `${message}\n  job ${details.jobId}, state ${details.state}${details.output ? `\n  last output:\n${indent(details.output)}` : ''}`, {
      hint: details.hint ?? 'read the job output above; run `clustrix check <profile>` to test the set-up',
    });
    this.name = 'JobStartError';
    this.jobId = details.jobId;
    this.state = details.state;
    this.output = details.output;
  }
}

/** A value (arguments or result) is larger than one frame may carry. */
export class ValueTooLargeError extends ClustrixError {
  /** 'arguments' (refused before anything was sent) or 'result' (refused on the agent). */
  readonly what: 'arguments' | 'result';
  constructor(message: string, what: 'arguments' | 'result', options?: { hint?: string }) {
    super('VALUE_TOO_LARGE', message, {
      hint: options?.hint ?? 'pass large data through shared storage (a path) instead, or raise maxFrameBytes on the cluster',
    });
    this.name = 'ValueTooLargeError';
    this.what = what;
  }
}

/** The last agent or job of a pool that failed, with the last lines of its output. */
export interface FailedJob {
  jobId: string;
  state: string;
  output: string;
}

/**
 * The pool had no agent and could not bring one back within `recoveryTimeoutMs`: the work waiting
 * for an agent failed. The pool keeps trying; work submitted once it recovers runs normally.
 */
export class PoolUnavailableError extends ClustrixError {
  readonly agentsLost: number;
  readonly replacementsTried: number;
  /** The launcher's last error (a launch that threw), if any. */
  readonly lastLaunchError: string | null;
  readonly lastFailedJob: FailedJob | null;
  constructor(message: string, details: { agentsLost: number; replacementsTried: number; lastLaunchError: string | null; lastFailedJob: FailedJob | null; hint?: string }) {
    const job = details.lastFailedJob;
    const lines = [
      message,
      details.lastLaunchError !== null ? `  last launch error: ${details.lastLaunchError}` : '',
      job ? `  last failed job ${job.jobId}: ${job.state}${job.output ? `; last output:\n${indent(job.output)}` : ''}` : '',
    ];
    super('POOL_UNAVAILABLE', lines.filter(Boolean).join('\n'), {
      hint: details.hint ?? 'fix what the errors above show; the pool keeps trying and runs new work once an agent connects (raise recoveryTimeoutMs to wait longer)',
    });
    this.name = 'PoolUnavailableError';
    this.agentsLost = details.agentsLost;
    this.replacementsTried = details.replacementsTried;
    this.lastLaunchError = details.lastLaunchError;
    this.lastFailedJob = job;
  }
}

/** The service went away (stopped, restarted, crashed) or the connection broke. */
export class ServiceLostError extends ClustrixError {
  constructor(message: string) {
    super('SERVICE_LOST', message, { hint: 'the clustrix service stopped or restarted: check `clustrix status <profile>`, then connect again' });
    this.name = 'ServiceLostError';
  }
}

/**
 * `cluster.module()` keeps a package out of the bundle (a native addon, or named in `external`)
 * and cannot make it load where the agents run: not installed here, no lockfile to install it
 * from on the cluster, the install failed, or it does not load there. Raised by module(), before
 * any task is sent.
 */
export class ModuleDependencyError extends ClustrixError {
  /** The packages concerned. */
  readonly packages: readonly string[];
  /** What the install or the load check printed (its last lines), when one ran. */
  readonly output: string;
  constructor(message: string, details: { packages: readonly string[]; output?: string; hint: string; cause?: unknown }) {
    const output = details.output?.trim() ?? '';
    super('MODULE_DEPENDENCY_UNAVAILABLE', `${message}${output ? `\n  output:\n${indent(output)}` : ''}`, { hint: details.hint, cause: details.cause });
    this.name = 'ModuleDependencyError';
    this.packages = details.packages;
    this.output = output;
  }
}

/** A value kept on the cluster is gone and cannot be made again (its agents lost, no lineage or retries left). */
export class ObjectLostError extends ClustrixError {
  readonly objectId: string;
  constructor(message: string, objectId: string) {
    super('OBJECT_LOST', message, { hint: 'raise the producing task\'s retries (lineage re-runs it), or keep a copy with cluster.put' });
    this.name = 'ObjectLostError';
    this.objectId = objectId;
  }
}

/** The results of a detached call are gone (dropped to stay within the service's budget), or this service never had it. */
export class ResultsExpiredError extends ClustrixError {
  readonly callId: string;
  constructor(message: string, callId: string) {
    super('RESULTS_EXPIRED', message, { hint: 'collect detached calls sooner, or give the service more room (`clustrix up --detached-bytes <n>`, ServiceOptions.detachedBytes)' });
    this.name = 'ResultsExpiredError';
    this.callId = callId;
  }
}

/** Work asks for more of a resource than any agent has, and no pool could add one that has it. */
export class ResourcesUnsatisfiableError extends ClustrixError {
  /** What is missing, by resource name: asked for, and the most any agent has. */
  readonly missing: Record<string, { asked: number; largest: number }>;
  constructor(message: string, missing: Record<string, { asked: number; largest: number }>, options?: { hint?: string }) {
    super('RESOURCES_UNSATISFIABLE', message, { hint: options?.hint ?? 'ask for less, or add agents that have it (more slots per agent, a pool with GPUs, a custom resource in the agents\' environment)' });
    this.name = 'ResourcesUnsatisfiableError';
    this.missing = missing;
  }
}

/**
 * A call named a pool the cluster does not have (`pool: 'gpux'`), or named none where it must
 * choose (`scale(n)` on a cluster of several pools).
 */
export class UnknownPoolError extends ClustrixError {
  /** The pool named; null: none was, and the cluster has several. */
  readonly pool: string | null;
  /** The cluster's pools. */
  readonly pools: string[];
  constructor(pool: string | null, pools: readonly string[], what = 'this call') {
    const list = pools.join(', ');
    super(
      'POOL_UNKNOWN',
      pool === null ? `${what} must name a pool ({ pool }): this cluster has several (${list})` : `there is no pool '${pool}' (pools: ${list})`,
      { hint: `name one of the pools: ${list}` },
    );
    this.name = 'UnknownPoolError';
    this.pool = pool;
    this.pools = [...pools];
  }
}

/** An agent's object store is full in memory and on disk: the value cannot be kept there. */
export class ObjectStoreFullError extends ClustrixError {
  constructor(message: string) {
    super('OBJECT_STORE_FULL', message, { hint: 'free refs you no longer need (ref.free()), or raise objectStoreBytes / objectSpillBytes' });
    this.name = 'ObjectStoreFullError';
  }
}

/** The cluster was closed (or never started) when the call was made. */
export class ClusterClosedError extends ClustrixError {
  constructor(message = 'the cluster is closed', options?: { hint?: string }) {
    super('CLUSTER_CLOSED', message, { hint: options?.hint ?? 'start a new cluster with Cluster.start() (or connect again with Cluster.connect())' });
    this.name = 'ClusterClosedError';
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

/** An argument cannot travel (a function, a Promise, a socket, a symbol...); nothing was sent. */
export class ArgsNotSerializableError extends ClustrixError {
  /** Where in the arguments, e.g. `args[1].opts.onDone`. */
  readonly path: string;
  constructor(message: string, path: string, options?: { cause?: unknown; hint?: string }) {
    super('ARGS_NOT_SERIALIZABLE', message, { cause: options?.cause, hint: options?.hint ?? 'pass data (objects, arrays, Map, Set, Date, typed arrays, BigInt), not functions, promises or sockets' });
    this.name = 'ArgsNotSerializableError';
    this.path = path;
  }
}

/** A task's result cannot travel back (a function, a Promise, a socket, a symbol...). */
export class ResultNotSerializableError extends ClustrixError {
  /** Where in the result, e.g. `result.handlers[0]`. */
  readonly path: string;
  constructor(message: string, path: string, options?: { cause?: unknown; hint?: string }) {
    super('RESULT_NOT_SERIALIZABLE', message, { cause: options?.cause, hint: options?.hint ?? 'return data (objects, arrays, Map, Set, Date, typed arrays, BigInt), not functions, promises or sockets' });
    this.name = 'ResultNotSerializableError';
    this.path = path;
  }
}

/** A result arrived but could not be decoded here (a corrupt or foreign value). */
export class ResultDecodeError extends ClustrixError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RESULT_DECODE_FAILED', message, { cause: options?.cause, hint: 'run the same clustrix version on the coordinator, the service and the agents' });
    this.name = 'ResultDecodeError';
  }
}

/** The agent could not load the task's code (a missing export, a module that does not import). */
export class TaskSetupError extends ClustrixError {
  readonly agentId: string;
  constructor(message: string, agentId: string, options?: { cause?: unknown; hint?: string }) {
    super('TASK_SETUP_FAILED', message, { cause: options?.cause, hint: options?.hint ?? 'check the module exports the function, and that it imports on the agent (clustrix check)' });
    this.name = 'TaskSetupError';
    this.agentId = agentId;
  }
}

/** The typed error for a result that could not travel back (`failed` of kind 'value'). */
export function valueError(info: RemoteErrorInfo, where: string): ClustrixError {
  if (info.code === 'VALUE_TOO_LARGE') return new ValueTooLargeError(`${where}: ${info.message}`, 'result');
  if (info.code === 'OBJECT_STORE_FULL') return new ObjectStoreFullError(`${where}: ${info.message}`);
  if (info.code === 'OBJECT_LOST') return new ObjectLostError(`${where}: ${info.message}`, '');
  return new ResultNotSerializableError(`${where}: ${info.message}`, info.path ?? 'result', info.hint === undefined ? undefined : { hint: info.hint });
}
