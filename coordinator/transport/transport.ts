import type { CoreArgs, CoreMethodName, CoreResult, TaskSpec } from '../../protocol/core-methods.js';
import type { ActorInfo, AgentInfo, LogEntry } from '../../protocol/rows.js';
import type { PoolEnvironment } from '../code/agent-environment.js';
import type { OutcomeSink, ShippedCode } from '../engine/task.js';
import type { ClustrixError } from '../errors/errors.js';

/** What a cluster hears without asking, in either mode. */
export interface TransportEvents {
  /** The agents now (after one came, went or changed state). */
  agents(agents: AgentInfo[]): void;
  /** An actor changed state (started, restarting, alive again, dead). */
  actor(info: ActorInfo): void;
  /** A line of output of one of this cluster's tasks (or of an agent it follows). */
  log(entry: LogEntry): void;
  /** The transport is gone for good (the service stopped, the connection broke). */
  lost?(error: Error): void;
}

/** Who is at the other end. */
export interface TransportInfo {
  /** The embedded cluster's id, or the client's id at the service. */
  id: string;
  mode: 'embedded' | 'connected';
  backend: string;
  /** The service's profile (connected mode). */
  profile: string | null;
  /** The pool's default `retries`. */
  retries: number;
  /** Largest frame the other end accepts, bytes. */
  maxFrameBytes: number;
}

/** A submitted task's cancel, without a lookup by id. */
export interface TaskCancel {
  cancel(error: ClustrixError): void;
}

/**
 * The narrow seam beneath `Cluster`: the embedded engine in this process, or a connection to a
 * service. Every method of the cluster API is a core method (protocol/core-methods.ts) called
 * through here, so both modes behave the same by construction.
 */
export interface Transport {
  readonly info: TransportInfo;
  /** Where each pool's agents run, as `cluster.module()` needs to know it (can they read this machine's packages). */
  readonly agentEnvironments: readonly PoolEnvironment[];
  call<M extends CoreMethodName>(method: M, ...args: CoreArgs<M>): Promise<CoreResult<M>>;
  /**
   * The core `submit`, its outcome told to `sink` (at once when the task fails at once: no agent
   * could ever run it). Returns the task's own cancel when it has one (embedded), else null: cancel
   * through `call('cancel', spec.id)`.
   */
  submitTask(spec: TaskSpec, sink: OutcomeSink): TaskCancel | null;
  /** Makes code known to the other end before a call names its hash (once per hash). */
  ship(code: ShippedCode): void;
  setEvents(events: TransportEvents): void;
  /** Releases this cluster's share: embedded stops the engine, connected detaches from the service. */
  close(): Promise<void>;
}
