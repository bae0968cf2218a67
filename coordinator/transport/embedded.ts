import type { CoreArgs, CoreHandlers, CoreMethodName, CoreResult, TaskSpec } from '../../protocol/core-methods.js';
import type { ResolvedClusterOptions } from '../config/options.js';
import { Engine } from '../engine/engine.js';
import type { EngineScope } from '../engine/scope.js';
import type { PoolEnvironment } from '../code/agent-environment.js';
import type { OutcomeSink, ShippedCode } from '../engine/task.js';
import { ClusterClosedError } from '../errors/errors.js';
import type { TaskCancel, Transport, TransportEvents, TransportInfo } from './transport.js';

/** The transport of `Cluster.start()`: the engine in this process, reached through one scope. */
export class EmbeddedTransport implements Transport {
  private events: TransportEvents | null = null;
  private readonly scope: EngineScope;

  private constructor(private readonly engine: Engine) {
    this.scope = engine.openScope('this program', {
      agents: (a) => this.events?.agents(a),
      actor: (i) => this.events?.actor(i),
      log: (e) => this.events?.log(e),
    }, 'call');
  }

  static async start(options: ResolvedClusterOptions): Promise<EmbeddedTransport> {
    return new EmbeddedTransport(await Engine.start(options));
  }

  get agentEnvironments(): readonly PoolEnvironment[] {
    return this.engine.environments;
  }

  get info(): TransportInfo {
    const { id, backend, retries, maxFrameBytes } = this.engine.info;
    return { id, mode: 'embedded', backend, profile: null, retries, maxFrameBytes };
  }

  call<M extends CoreMethodName>(method: M, ...args: CoreArgs<M>): Promise<CoreResult<M>> {
    const handler = this.scope[method] as (...a: CoreArgs<M>) => Promise<CoreResult<M>>;
    try {
      return handler(...args);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  submitTask(spec: TaskSpec, sink: OutcomeSink): TaskCancel | null {
    try {
      // This program's TaskCaller numbers its tasks: ids are unique, and it cancels through the handle.
      return this.scope.submitOwn(spec, sink);
    } catch (error) {
      // Refused (closed, unknown code): told after this turn, as a rejected call would be.
      queueMicrotask(() => sink.settled({ ok: false, error }));
      return null;
    }
  }

  ship(code: ShippedCode): void {
    this.scope.addCode(code);
  }

  setEvents(events: TransportEvents): void {
    this.events = events;
  }

  async close(): Promise<void> {
    // The engine fails what is queued or running with CLUSTER_CLOSED; the scope has nothing left.
    const closing = this.engine.close();
    this.scope.close(new ClusterClosedError('the cluster was closed before the task finished'));
    await closing;
  }
}

/** Type-level check: a scope answers every core method. */
export type _ScopeIsCore = EngineScope extends CoreHandlers ? true : never;
