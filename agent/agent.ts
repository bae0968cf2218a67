import type { FailureKind, RemoteErrorInfo } from '../protocol/common.js';
import type { AgentMessage } from '../protocol/agent-messages.js';
import type { ActorCall, ActorCreate } from '../protocol/actor-messages.js';
import type { CoordinatorMessage, Task } from '../protocol/coordinator-messages.js';
import { longTimeout } from '../protocol/durations.js';
import { valueLimit } from '../protocol/version.js';
import type { AgentConfig } from './config.js';
import { CoordinatorConnection } from './connection.js';
import { ActorHost } from './actor-host.js';
import { ActorGates } from './actor-gates.js';
import { installActorBridge, onActorReply, type ActorReplyToThread } from './actor-bridge.js';
import { InlineRunner } from './inline-runner.js';
import { AgentObjects, INLINE_RESULT_BYTES, spillDirOf } from './objects/agent-objects.js';
import { installObjectReads } from './objects/object-reads.js';
import { LazyRefs } from './objects/lazy-refs.js';
import { helloOf, tooLarge } from './hello.js';
import { pruneCodeCache } from './module-files.js';
import { ParkedTasks } from './parked-tasks.js';
import type { CodeSource } from './task-code.js';
import { WorkerPool, type PoolEvents } from './worker-pool.js';
import type { WorkerEntry } from './start-worker.js';
import { FirstHello } from './first-hello.js';
import { ThreadWrites } from './thread-writes.js';

const NO_DEPS: ReadonlyMap<string, Uint8Array> = new Map();

/** Time before the walltime ends at which the agent asks to be drained and replaced. */
const DRAIN_MARGIN_MS = 120_000;
/** The longest the start's deferred work waits for the first hello to leave. */
const DEFER_LIMIT_MS = 1_000;

/** The agent process: one connection to the coordinator, a worker-thread pool and an inline runner. */
export class Agent {
  /** What the start defers until its first hello has left. */
  private readonly firstHello = new FirstHello();
  private readonly codes = new Map<string, CodeSource>();
  /** Where each accepted task runs, until it is reported. */
  private readonly tasks = new Map<string, 'pool' | 'inline' | 'fetching' | 'parked'>();
  /** Tasks held until their deps, being made here, land in the store. */
  private readonly parked = new ParkedTasks();
  private readonly lazy = new LazyRefs(() => this.objects);
  /** Tasks whose result stays here: task id → object id. */
  private readonly keeps = new Map<string, string>();
  /** Express tasks (interactive calls) not reported yet: their result leaves ahead of batched ones. */
  private readonly express = new Set<string>();
  private readonly objects: AgentObjects;
  private readonly gates: ActorGates;
  private readonly pool: WorkerPool;
  private readonly inline: InlineRunner;
  private readonly actors: ActorHost;
  /** Actor calls made by this agent's tasks, awaiting the coordinator's reply. */
  private readonly requests = new Map<string, (msg: ActorReplyToThread) => void>();
  private readonly connection: CoordinatorConnection;
  private agentId: string | null;
  private exiting = false;
  private cancelDrain: (() => void) | null = null;

  constructor(
    private readonly config: AgentConfig,
    workerEntry: WorkerEntry,
    private readonly onExit: (code: number, reason: string) => void,
  ) {
    this.agentId = config.agentId;
    const events: PoolEvents = {
      done: (id, value, runMs, refs, sent) => this.report(id, () => (sent ? this.sent(id) : this.sendResult(id, value, runMs, refs))),
      failed: (id, kind, error) => this.report(id, () => this.fail(id, kind, error)),
      log: (id, stream, text) => this.connection.send({ type: 'log', id, stream, text }),
      actorRequest: (req, reply) => {
        this.requests.set(req.id, reply);
        this.connection.send({ type: 'actor-request', id: req.id, actorId: req.actorId, method: req.method, args: req.args, refs: req.refs, lazy: req.lazy });
      },
      readObject: (objectId, context) => this.lazy.read(objectId, context),
    };
    // Inline tasks run on this thread: their actor handles and refs route through the same tables.
    installActorBridge((req) => events.actorRequest(req, onActorReply));
    // An inline task gets its own copy too: the value views its bytes, and the store keeps its own.
    installObjectReads(async (objectId, context) => new Uint8Array(await events.readObject(objectId, context)));
    const threadWrites = new ThreadWrites(config.threadWrites);
    this.pool = new WorkerPool(config.slots, workerEntry, config.cacheDir, events, config.gpuDevices, threadWrites.shared);
    this.inline = new InlineRunner(config.inlineConcurrency, config.cacheDir, events);
    // Actor calls are not tracked in `tasks`: the actor host reports each exactly once itself.
    this.actors = new ActorHost(workerEntry, config.cacheDir, {
      ...events,
      done: (id, value, runMs, refs) => {
        this.lazy.delete(id);
        this.sendResult(id, value, runMs, refs);
      },
      failed: (id, kind, error) => {
        this.lazy.delete(id);
        this.connection.send({ type: 'failed', id, kind, error });
      },
      ready: (actorId) => this.connection.send({ type: 'actor-ready', actorId }),
      exited: (actorId, constructorFailed, error) => {
        this.lazy.delete(actorId);
        this.connection.send({ type: 'actor-exited', actorId, constructorFailed, error });
      },
      checkpoint: (actorId, calls, state) => this.connection.send({ type: 'actor-checkpoint', actorId, calls, state }),
    });
    this.gates = new ActorGates(
      (deps) => this.objects.resolve(deps),
      (call, deps) => this.actors.call(call.actorId, call.id, call.method, call.args, call.timeoutMs, deps),
      (call, err) => {
        this.lazy.delete(call.id);
        this.connection.send({ type: 'failed', id: call.id, kind: 'value', error: { name: 'ObjectLostError', code: 'OBJECT_LOST', message: `an argument's value could not be fetched: ${err.message}` } });
      },
    );
    this.objects = new AgentObjects({ token: config.token, maxFrameBytes: config.maxFrameBytes, spillDir: spillDirOf(config.cacheDir), send: (m) => this.connection.send(m), idleThreads: () => this.pool.idle, stored: (id) => this.parked.landed(id) });
    this.connection = new CoordinatorConnection(config, {
      hello: () => helloOf(this.config, this.agentId),
      helloSent: () => this.firstHello.helloSent(),
      busy: () => this.pool.queued > 0,
      oversize: (message, bytes) => this.oversize(message, bytes),
      connected: (welcome, localAddress) => {
        this.agentId = welcome.agentId;
        void this.objects.connected(welcome, localAddress);
      },
      messages: (messages) => {
        for (const m of messages) this.handle(m);
      },
      disconnected: () => {
        this.tasks.clear();
        this.parked.clear();
        this.keeps.clear();
        this.lazy.clear();
        this.express.clear();
        this.objects.reset();
        this.pool.abandonAll();
        this.inline.abandonAll();
        // The coordinator restarts these elsewhere; copies here would only diverge.
        this.actors.killAll();
        for (const [id, reply] of this.requests) reply({ type: 'actor-reply', id, value: null, error: { name: 'ActorDiedError', message: 'the agent lost its coordinator' } });
        this.requests.clear();
      },
      exit: (code, reason) => void this.exit(code, reason),
    }, threadWrites);
  }

  /**
   * Dials the coordinator. `afterHello`: the caller's own start-up work that can wait until the
   * first hello has left (or a second, should none leave by then: a coordinator not reachable yet
   * must not hold it back for long). `firstHello`: called when it has left (a coordinator was
   * reached), whenever that is.
   */
  start(hooks: { afterHello?: () => void; firstHello?: () => void } = {}): void {
    const deferred = (): void => {
      this.pool.start();
      pruneCodeCache(this.config.cacheDir);
      hooks.afterHello?.();
    };
    this.firstHello.arm(deferred, hooks.firstHello ?? null, DEFER_LIMIT_MS);
    this.connection.start();
    if (this.config.walltimeEnd !== null) {
      const at = this.config.walltimeEnd - DRAIN_MARGIN_MS - Date.now();
      // A walltime of weeks is longer than one Node timer holds.
      this.cancelDrain = longTimeout(() => this.connection.send({ type: 'draining', reason: 'walltime ends soon' }), at);
    }
  }

  async exit(code: number, reason: string): Promise<void> {
    if (this.exiting) return;
    this.exiting = true;
    this.cancelDrain?.();
    this.connection.stop();
    this.objects.close();
    await this.pool.close();
    this.onExit(code, reason);
  }

  private handle(message: CoordinatorMessage): void {
    switch (message.type) {
      case 'welcome':
        return; // only valid as the first message; the connection consumed it
      case 'code':
        this.codes.set(message.hash, { hash: message.hash, kind: message.kind, source: message.source });
        return;
      case 'task':
        this.accept(message);
        return;
      case 'cancel':
        this.cancel(message.id, 'cancelled', { name: 'CancelledError', message: 'cancelled by the coordinator' });
        return;
      case 'withdraw':
        if (this.parked.drop(message.id)) this.forget(message.id, () => this.connection.send({ type: 'withdrawn', id: message.id }));
        return;
      case 'ping': {
        const peer = this.objects.peerBytes();
        this.connection.send({
          type: 'pong',
          t: message.t,
          rssBytes: process.memoryUsage.rss(),
          running: this.pool.running + this.inline.running,
          peerBytesIn: peer.in,
          peerBytesOut: peer.out,
        });
        return;
      }
      case 'shutdown':
        void this.exit(0, `shutdown: ${message.reason}`);
        return;
      case 'actor-create': {
        const code = this.codes.get(message.code);
        if (!code) {
          this.connection.send({
            type: 'actor-exited',
            actorId: message.actorId,
            constructorFailed: true,
            error: { name: 'CodeMissingError', message: `code ${message.code} was not sent before actor ${message.actorId}` },
          });
          return;
        }
        this.actorCreate(message, code);
        return;
      }
      case 'actor-call':
        this.actorCall(message);
        return;
      case 'actor-kill':
        this.lazy.delete(message.actorId);
        this.actors.kill(message.actorId);
        return;
      case 'object-put':
        this.objects.put(message.objectId, message.bytes);
        return;
      case 'object-get': {
        const bytes = this.objects.get(message.objectId) ?? null;
        this.connection.send({ type: 'object-data', id: message.id, objectId: message.objectId, bytes, error: bytes ? null : 'not held by this agent' });
        return;
      }
      case 'object-free':
        this.objects.free(message.objectIds);
        return;
      case 'object-reply':
        this.objects.replied(message);
        return;
      case 'actor-reply': {
        const reply = this.requests.get(message.id);
        if (!reply) return;
        this.requests.delete(message.id);
        reply({ type: 'actor-reply', id: message.id, value: message.value, error: message.error });
        return;
      }
      default: {
        const unreachable: never = message;
        throw new Error(`unhandled message ${JSON.stringify(unreachable)}`);
      }
    }
  }

  private accept(task: Task): void {
    const code = this.codes.get(task.code);
    if (!code) {
      this.connection.send({
        type: 'failed',
        id: task.id,
        kind: 'setup',
        error: { name: 'CodeMissingError', message: `code ${task.code} was not sent before task ${task.id}` },
      });
      return;
    }
    if (task.keep !== null) this.keeps.set(task.id, task.keep);
    const missing = task.parked ? task.deps.filter((d) => !this.objects.has(d.objectId)).map((d) => d.objectId) : [];
    if (missing.length === 0) {
      this.admit(task, code);
      return;
    }
    this.tasks.set(task.id, 'parked');
    this.parked.hold(task.id, missing, () => {
      if (this.tasks.get(task.id) === 'parked') this.admit(task, code);
    });
  }

  /** A task whose deps are here or to be fetched: it runs once it has their values. */
  private admit(task: Task, code: CodeSource): void {
    const eager = this.lazy.eager(task.id, task.deps);
    const held = eager.length === 0 ? NO_DEPS : this.objects.held(eager);
    if (held) {
      this.run(task, code, held);
      return;
    }
    // Its top-level ref arguments' values first: from this agent's store, a peer, or the coordinator.
    this.tasks.set(task.id, 'fetching');
    this.objects.resolve(eager, !task.inline).then(
      (deps) => {
        if (this.tasks.get(task.id) === 'fetching') this.run(task, code, deps);
      },
      (err: unknown) => {
        const e = err as Error & { code?: string };
        this.report(task.id, () => this.fail(task.id, 'setup', { name: 'ObjectLostError', code: e.code ?? 'OBJECT_LOST', message: `an argument's value could not be fetched: ${e.message}` }));
      },
    );
  }

  private actorCall(call: ActorCall): void {
    this.gates.call(call, this.lazy.eager(call.id, call.deps));
  }

  /** An actor is constructed once its constructor's top-level ref arguments are here (a restart fetches them again). */
  private actorCreate(message: ActorCreate, code: CodeSource): void {
    const { actorId } = message;
    const create = (deps: ReadonlyMap<string, Uint8Array>): void =>
      this.actors.create(actorId, code, message.export, message.args, message.maxConcurrency, { checkpointEvery: message.checkpointEvery, checkpointMs: message.checkpointMs, restore: message.restore }, deps);
    const eager = this.lazy.eager(actorId, message.deps ?? []);
    if (eager.length === 0) {
      create(NO_DEPS);
      return;
    }
    this.objects.resolve(eager).then(create, (err: unknown) => {
      this.lazy.delete(actorId);
      this.connection.send({ type: 'actor-exited', actorId, constructorFailed: true, error: { name: 'ObjectLostError', code: 'OBJECT_LOST', message: `a constructor argument's value could not be fetched: ${(err as Error).message}` } });
    });
  }

  private run(task: Task, code: CodeSource, deps: ReadonlyMap<string, Uint8Array>): void {
    const job = { id: task.id, code, export: task.export, args: task.args, chunk: task.chunk, timeoutMs: task.timeoutMs, express: task.express, gpus: task.gpus, deps, direct: task.keep === null };
    if (task.express) this.express.add(task.id);
    if (task.inline) {
      this.tasks.set(task.id, 'inline');
      this.inline.submit(job);
    } else {
      this.tasks.set(task.id, 'pool');
      this.pool.submit(job);
    }
  }

  /** A result goes back unless it cannot fit a frame: then the call fails, and the link stays. */
  private sendResult(id: string, value: Uint8Array, runMs: number, refs: string[] = []): void {
    const urgent = this.express.delete(id);
    const keep = this.keeps.get(id);
    if (keep !== undefined) {
      this.keeps.delete(id);
      try {
        this.objects.keep(keep, value);
      } catch (err) {
        this.connection.send({ type: 'failed', id, kind: 'value', error: { name: 'ObjectStoreFullError', code: 'OBJECT_STORE_FULL', message: (err as Error).message } });
        return;
      }
      const inline = value.byteLength <= INLINE_RESULT_BYTES ? value : null;
      this.connection.send({ type: 'kept', id, objectId: keep, size: value.byteLength, value: inline, refs, runMs }, urgent);
      return;
    }
    if (value.byteLength > valueLimit(this.config.maxFrameBytes)) {
      this.connection.send({ type: 'failed', id, kind: 'value', error: tooLarge(`the result is ${value.byteLength} bytes`, valueLimit(this.config.maxFrameBytes)) });
      return;
    }
    this.connection.send(refs.length > 0 ? { type: 'done', id, value, runMs, refs } : { type: 'done', id, value, runMs }, urgent);
  }

  /** A result its thread wrote to the coordinator itself (thread-writes.ts). */
  private sent(id: string): void {
    this.express.delete(id);
    this.connection.checkThreadWrites();
  }

  // Results are checked before they are sent (sendResult); this is the net under every other message.
  private oversize(message: AgentMessage, bytes: number): void {
    if (message.type === 'actor-request') {
      const reply = this.requests.get(message.id);
      this.requests.delete(message.id);
      reply?.({ type: 'actor-reply', id: message.id, value: null, error: tooLarge(`the arguments of ${message.method} are ${bytes} bytes`, valueLimit(this.config.maxFrameBytes)) });
      return;
    }
    if (message.type === 'done') {
      this.connection.send({ type: 'failed', id: message.id, kind: 'value', error: tooLarge(`the result is ${bytes} bytes`, valueLimit(this.config.maxFrameBytes)) });
      return;
    }
    process.stderr.write(`clustrix agent: dropped a '${message.type}' message of ${bytes} bytes, larger than a frame may be\n`);
  }

  private cancel(id: string, kind: FailureKind, error: RemoteErrorInfo): void {
    const where = this.tasks.get(id);
    if (where === 'pool') this.pool.cancel(id, kind, error);
    else if (where === 'inline') this.inline.cancel(id, kind, error);
    else if (where === 'fetching') this.report(id, () => this.fail(id, kind, error));
    else if (where === 'parked' && this.parked.drop(id)) this.report(id, () => this.fail(id, kind, error));
  }

  private fail(id: string, kind: FailureKind, error: RemoteErrorInfo): void {
    this.keeps.delete(id);
    this.connection.send({ type: 'failed', id, kind, error }, this.express.delete(id));
  }

  private report(id: string, send: () => void): void {
    if (!this.tasks.delete(id)) return;
    this.lazy.delete(id);
    send();
  }

  /** A parked task dropped unrun: nothing of it stays (its result will not be kept here). */
  private forget(id: string, send: () => void): void {
    this.keeps.delete(id);
    this.express.delete(id);
    this.report(id, send);
  }
}
