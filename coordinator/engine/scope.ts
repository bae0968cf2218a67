import { nanoid } from 'nanoid';
import type { ActorSpec, AdaptResult, AdaptSpec, BroadcastSpec, Collected, CollectedPart, CoreHandlers, DetachSpec, ScaleOptions, TaskSpec } from '../../protocol/core-methods.js';
import type { DetachedCalls } from './detached.js';
import type { ActorInfo, AgentInfo, DashboardAccess, DetachedRow, HistoryQuery, LogEntry, ObjectStats, PendingAgent, TaskHistory } from '../../protocol/rows.js';
import { CancelledError, ClusterClosedError, ConfigError, ProtocolError, UnknownPoolError, type ClustrixError } from '../errors/errors.js';
import type { Engine } from './engine.js';
import type { LocalSubmission, LocalTask } from './submit.js';
import type { OutcomeSink, ShippedCode, TaskOrigin, TaskRecord } from './task.js';
import { CloseCode } from '../../protocol/version.js';
import { ScopeHandles } from './scope-handles.js';
import { ScopeTasks } from './scope-tasks.js';

/** What a scope tells its program (or the client it serves). */
export interface ScopeEvents {
  agents(agents: AgentInfo[]): void;
  actor(info: ActorInfo): void;
  log(entry: LogEntry): void;
}

/** Share-holders of a scope's tasks: each call (`run`, `map`), or the whole scope. */
export type ShareBy = 'call' | 'scope';

/** Most agents one scale step may ask for: past it, a typo (1e9) would fork-bomb a launcher. */
export const MAX_AGENTS = 100_000;

/**
 * One program's view of the engine (an embedded cluster, or one client of a service): the core
 * methods, its code by hash, its tasks and its unnamed actors. Closing it cancels its queued and
 * running tasks and kills its unnamed actors; nobody else's work is touched.
 */
export class EngineScope implements CoreHandlers {
  /** Agent (or job) whose every log line this scope wants; undefined: none, null: all. */
  follow: string | null | undefined = undefined;
  private readonly code = new Map<string, ShippedCode>();
  /** The code found last, and the string it was asked by (a map's tasks ask by one string object). */
  private lastCode: ShippedCode | null = null;
  private lastHash = '';
  /** Tasks not settled yet ({@link submitOwn}'s without a by-id entry). */
  private readonly tasks = new ScopeTasks();
  /** Unnamed actors this scope created: killed when it closes. */
  private readonly owned = new Set<string>();
  private readonly handles: ScopeHandles;
  private closed = false;
  /** Unique per scope: share-holder keys start with it. */
  private readonly shareKey = `s${nanoid(8)}`;
  private lastGroup: string | null = null;
  private lastShare = '';

  constructor(
    private readonly engine: Engine,
    readonly name: string,
    private readonly events: ScopeEvents,
    /** Who holds a share of the slots: each call (an embedded program), or the scope as a whole (a client of a service). */
    private readonly shareBy: ShareBy,
  ) {
    this.handles = new ScopeHandles(engine.objects.directory);
  }

  /** Tasks of this scope queued or running. */
  get taskCount(): number {
    return this.tasks.count;
  }

  /** Code a later call names by hash. */
  addCode(code: ShippedCode): void {
    this.code.set(code.hash, code);
    this.lastCode = null;
  }

  // The hot path of every map: no async frame, no arrays of one, no promise beyond the task's own
  // (its settlement reaches `taskSettled` from the submitter, not through a `then`).
  submit = (spec: TaskSpec): Promise<Uint8Array> => {
    try {
      return this.start(spec, null, false).result!;
    } catch (err) {
      return Promise.reject(err);
    }
  };

  /**
   * {@link submit} with the outcome told to `sink`, no promise (a service client's); throws what
   * submit rejects with. Keeps no reference to `spec` (a session fills one for a message's tasks).
   */
  submitTask(spec: TaskSpec, sink: OutcomeSink): void {
    this.start(spec, sink, false);
  }

  /**
   * {@link submitTask} of a caller whose ids are unique by construction (the embedded program's),
   * which cancels through the handle returned, not by id: `cancel(id)` does not find the task.
   */
  submitOwn(spec: TaskSpec, sink: OutcomeSink): LocalTask {
    return this.start(spec, sink, true);
  }

  private start(spec: TaskSpec, sink: OutcomeSink | null, own: boolean): LocalTask {
    this.tasks.assertCallLive(spec.call);
    const code = this.codeFor(spec.code);
    this.assertOpen();
    const id = spec.id;
    if (!own) this.tasks.assertFree(id);
    const origin: TaskOrigin = {
      client: this.name, taskId: id, callId: spec.call?.id ?? id, label: spec.call?.label || code.name, submittedAt: Date.now(), scope: this, ownSlot: -1,
    };
    // A caller's task never keeps its result (submitRef does); a client may not say otherwise.
    const plain = spec.keep === null ? spec : { ...spec, keep: null };
    const taskId = this.engine.nextTaskId();
    const sub = sink === null ? this.engine.submitter.submit(taskId, plain, code, this.shareOf(spec), null, origin) : this.engine.submitter.submitTo(taskId, plain, code, this.shareOf(spec), sink, origin);
    // No owner entry while it runs: its log lines find it (and `origin`) among its link's in-flight tasks.
    if (sub.task.settled) return sub;
    if (own) origin.ownSlot = this.tasks.trackOwn(sub);
    else this.tasks.track(id, [sub]);
    return sub;
  }

  /**
   * @internal A task of {@link submit} settled (called by the submitter as it delivers the outcome,
   * before the caller hears it): forgotten, an inline task's trailing output still routed here for
   * a moment, and the refs inside a result it brought become this scope's.
   */
  taskSettled(task: TaskRecord, origin: TaskOrigin, ok: boolean): void {
    this.tasks.settled(task, origin);
    // Only an inline task's output can trail its result under its id (the agent follows it through
    // its async context); a worker thread's output is the running task's, sent before its result.
    if (task.inline) this.engine.lingerTask(task.id, origin);
    if (ok) this.handles.adopt(task.resultRefs);
  }

  submitRef = async (spec: TaskSpec & { keep: string }): Promise<null> => {
    this.assertOpen();
    this.handles.claim(spec.keep);
    const sub = this.engine.submitter.submit(this.engine.nextTaskId(), spec, this.codeFor(spec.code), this.shareOf(spec));
    this.handles.take(spec.keep);
    const subs = [sub];
    this.tasks.track(spec.id, subs);
    this.engine.ownTask(sub.id, this, spec.id);
    const done = (): void => {
      this.tasks.untrack(spec.id, subs);
      this.engine.releaseTask(sub.id);
    };
    sub.result.then(done, done);
    return null;
  };

  put = async (objectId: string, bytes: Uint8Array, contains: string[]): Promise<null> => {
    this.assertOpen();
    this.handles.claim(objectId);
    this.engine.objects.directory.put(objectId, bytes, contains);
    this.handles.take(objectId);
    return null;
  };

  objectGet = async (objectId: string): Promise<Uint8Array> => {
    const bytes = await this.engine.objects.directory.bytesOf(objectId);
    this.handles.pinInner(objectId);
    return bytes;
  };

  objectWait = async (objectIds: string[], count: number, timeoutMs: number | null): Promise<string[]> => {
    const directory = this.engine.objects.directory;
    const done = (): string[] => objectIds.filter((id) => directory.settled(id));
    const want = Math.min(count, objectIds.length);
    if (done().length >= want || timeoutMs === 0) return done();
    await new Promise<void>((resolve) => {
      const timer = timeoutMs === null ? null : setTimeout(resolve, timeoutMs);
      const check = (): void => {
        if (done().length < want) return;
        if (timer) clearTimeout(timer);
        resolve();
      };
      for (const id of objectIds) directory.ready([id]).then(check, check);
    });
    return done();
  };

  objectFree = async (objectIds: string[]): Promise<null> => {
    this.handles.free(objectIds);
    return null;
  };

  objectStats = async (): Promise<ObjectStats> => ({ ...this.engine.objects.directory.stats(), parked: this.engine.submitter.parked, links: await this.engine.linkBytes() });

  cancel = async (id: string): Promise<null> => {
    this.tasks.cancel(id);
    return null;
  };

  broadcast = async (spec: BroadcastSpec): Promise<Uint8Array[]> => {
    const code = this.codeFor(spec.code);
    const targets = this.engine.agents().filter((a) => a.state === 'ready');
    const id = `b${nanoid(10)}`;
    const task = { ...spec, id, chunk: false, priority: 0, weight: 1, group: null, resources: null, keep: null };
    const submittedAt = Date.now();
    return this.run(id, () =>
      targets.map((agent) => {
        const origin: TaskOrigin = { client: this.name, taskId: `${id}@${agent.id}`, callId: id, label: `broadcast ${code.name}`, submittedAt };
        return this.engine.submitter.submit(this.engine.nextTaskId(), task, code, this.shareKey, agent.id, origin);
      }),
    );
  };

  agents = async (): Promise<AgentInfo[]> => this.engine.agents();

  pendingAgents = async (): Promise<PendingAgent[]> => this.engine.pendingAgents();

  scale = async (n: number, options: ScaleOptions): Promise<null> => {
    this.assertOpen();
    if (!Number.isInteger(n) || n < 0 || n > MAX_AGENTS) throw new ProtocolError(`scale needs a whole number of agents from 0 to ${MAX_AGENTS}, got ${n}`, CloseCode.protocolError);
    await this.engine.pool.scale(n, options.pool ?? null);
    return null;
  };

  adapt = async (spec: AdaptSpec): Promise<AdaptResult> => {
    this.assertOpen();
    return this.engine.pool.adapt(spec.pool, { min: spec.min, max: spec.max, idleMs: spec.idleMs });
  };

  actorCreate = async (spec: ActorSpec): Promise<ActorInfo> => {
    this.assertOpen();
    this.assertPool(spec.pool);
    const info = await this.engine.actors.create(this.codeFor(spec.code), spec);
    // An actor belongs to its creator unless named (a named one outlives it, for others).
    if (info.name === null) {
      if (this.closed) await this.engine.actors.kill(info.id);
      else this.owned.add(info.id);
    }
    return info;
  };

  actorCall = async (actorId: string, method: string, args: Uint8Array, refs: string[], lazy: string[] = []): Promise<Uint8Array> => {
    let forget: (() => void) | undefined;
    try {
      // The call's output is this scope's, like a task's.
      const result = await this.engine.actors.call(actorId, method, args, (callId) => {
        this.engine.ownTask(callId, this, callId);
        forget = () => this.engine.releaseTask(callId);
      }, refs, lazy);
      this.handles.adopt(result.refs);
      return result.value;
    } finally {
      forget?.();
    }
  };

  actorKill = async (actorId: string): Promise<null> => {
    this.owned.delete(actorId);
    await this.engine.actors.kill(actorId);
    return null;
  };

  actorGet = async (name: string): Promise<ActorInfo | null> => this.engine.actors.get(name);

  actorList = async (): Promise<ActorInfo[]> => this.engine.actors.list();

  history = async (query: HistoryQuery): Promise<TaskHistory> => this.engine.work.history.query(query);

  detach = async (spec: DetachSpec): Promise<string> => {
    this.assertOpen();
    // Refused now, not as the call's outcome: its client may be gone by then.
    this.assertPool(spec.pool);
    return this.detachedCalls().start(spec, this.codeFor(spec.code), this.name);
  };

  collect = async (id: string): Promise<Collected> => this.detachedCalls().collect(id);

  collectNext = async (id: string, from: number): Promise<CollectedPart> => this.detachedCalls().collectNext(id, from);

  detachedList = async (): Promise<DetachedRow[]> => this.engine.detached?.list() ?? [];

  dashboard = async (): Promise<DashboardAccess | null> => this.engine.dashboard?.access() ?? null;

  followLogs = async (target: string | null): Promise<null> => {
    this.follow = target;
    return null;
  };

  /** Cancels every task of one call of this scope (a map's, or a single task's), and refuses its later ones. */
  cancelCall(callId: string, error: ClustrixError): number {
    return this.tasks.cancelCall(callId, error);
  }

  /** @internal The engine routes this scope's events through here. */
  emitLog(entry: LogEntry): void {
    if (!this.closed) this.events.log(entry);
  }

  emitAgents(agents: AgentInfo[]): void {
    if (!this.closed) this.events.agents(agents);
  }

  emitActor(info: ActorInfo): void {
    if (!this.closed) this.events.actor(info);
  }

  /** Drops this scope's queued tasks, cancels its running ones, kills its unnamed actors. Idempotent. */
  close(error: ClustrixError): { tasks: number; actors: number } {
    if (this.closed) return { tasks: 0, actors: 0 };
    this.closed = true;
    this.engine.forgetScope(this);
    const tasks = this.tasks.cancelAll(error);
    let actors = 0;
    for (const actorId of this.owned) {
      if (!this.engine.actors.isLive(actorId)) continue;
      this.engine.actors.kill(actorId).catch(() => undefined);
      actors++;
    }
    this.owned.clear();
    this.handles.close();
    return { tasks, actors };
  }

  /** Submits under the caller's `id`, tracks the submissions until they settle, resolves with every result. */
  private async run(id: string, submit: () => LocalSubmission[]): Promise<Uint8Array[]> {
    this.assertOpen();
    this.tasks.assertFree(id);
    const subs = submit();
    this.tasks.track(id, subs);
    for (const s of subs) this.engine.ownTask(s.id, this, id);
    try {
      const values = await Promise.all(subs.map((s) => s.result));
      for (const s of subs) this.handles.adopt(s.task.resultRefs);
      return values;
    } catch (err) {
      for (const s of subs) s.cancel(new CancelledError('another agent of the same broadcast failed'));
      // Their values do not reach the program: nor do the refs inside them.
      for (const s of subs) void s.result.then(() => this.handles.release(s.task.resultRefs), () => undefined);
      throw err;
    } finally {
      this.tasks.untrack(id);
      for (const s of subs) this.engine.releaseTask(s.id);
    }
  }

  /**
   * The share-holder of a task: the scope, or its call. The last call's key is kept, so a map's
   * tasks share one string (its hash computed once in the share queue's maps).
   */
  private shareOf(spec: TaskSpec): string {
    if (this.shareBy === 'scope') return this.shareKey;
    const group = spec.group ?? spec.id;
    if (group !== this.lastGroup) {
      this.lastGroup = group;
      this.lastShare = `${this.shareKey}/${group}`;
    }
    return this.lastShare;
  }

  private detachedCalls(): DetachedCalls {
    const detached = this.engine.detached;
    if (!detached) throw new ConfigError('detached calls need a service: this cluster runs in this program and ends with it', { hint: 'start a service (`clustrix up <profile>`) and use Cluster.connect()' });
    return detached;
  }

  private codeFor(hash: string): ShippedCode {
    // Every task of a map names the same code, in a service by one string per message, decoded
    // as a slice of the frame: comparing the same object is a pointer check, a copy a char walk,
    // so the string asked by last is kept (a message's later tasks then compare by pointer).
    if (hash === this.lastHash && this.lastCode !== null) {
      this.lastHash = hash;
      return this.lastCode;
    }
    const code = this.code.get(hash);
    if (!code) throw new ProtocolError(`a call names code ${hash} that was never sent`, CloseCode.protocolError);
    this.lastCode = code;
    this.lastHash = hash;
    return code;
  }

  /** A pool named by an actor or a detached call must exist (tasks are checked by the scheduler). */
  private assertPool(pool: string | null | undefined): void {
    if (pool && !this.engine.pool.names.includes(pool)) throw new UnknownPoolError(pool, this.engine.pool.names);
  }

  private assertOpen(): void {
    if (this.closed || this.engine.closed) throw new ClusterClosedError();
  }
}
