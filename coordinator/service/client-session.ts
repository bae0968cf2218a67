import { createHash, timingSafeEqual } from 'node:crypto';
import type WebSocket from 'ws';
import type { ActorRow, ClientActorCreate, ClientMessage, ServiceMessage } from '../../protocol/client-messages.js';
import { decodeClientFrame } from '../../protocol/client-codec.js';
import { FramedSocket } from '../../protocol/framed-socket.js';
import { packValue, unpackValue } from '../../protocol/values.js';
import { CloseCode, PROTOCOL_VERSION } from '../../protocol/version.js';
import type { ActorHandle, ActorOptions, ActorState } from '../actors/index.js';
import { toWireError } from '../client/wire-errors.js';
import { ActorDiedError, CancelledError, ClustrixError } from '../errors/errors.js';
import type { Submission } from '../engine/submit.js';
import type { ShippedCode } from '../engine/task.js';
import type { ServiceHost } from './service-host.js';

/** A handle of the embedded cluster, called with a client's method name and arguments. */
type AnyActor = ActorHandle<Record<string, (...args: unknown[]) => unknown>>;

/** An actor this client holds a handle to, with the state it was last told. */
interface HeldActor {
  handle: AnyActor;
  state: ActorState;
  restarts: number;
}

/**
 * The service's side of one client connection: authenticates it, caches the code it ships, runs
 * its tasks on the shared pool, and on disconnect drops its queued tasks and cancels its running
 * ones, touching no other client's work.
 */
export class ClientSession {
  id = '';
  name = '';
  readonly connectedAt = Date.now();
  /** Tasks of this client not settled yet, by the client's id. */
  readonly tasks = new Map<string, Submission[]>();
  /** Agent (or job) whose every log line this client wants; undefined: none, null: all. */
  follow: string | null | undefined = undefined;
  /** Actors this client holds handles to (created or looked up), by id. */
  private readonly held = new Map<string, HeldActor>();
  /** Unnamed actors this client created: killed when it goes. */
  private readonly owned = new Set<string>();
  private authed = false;
  private closed = false;
  private readonly code = new Map<string, ShippedCode>();
  private readonly socket: FramedSocket<ClientMessage, ServiceMessage>;

  constructor(
    ws: WebSocket,
    private readonly host: ServiceHost,
    /** Lifts the endpoint's deadline for unauthenticated connections. */
    private readonly authenticated: () => void,
  ) {
    this.socket = new FramedSocket<ClientMessage, ServiceMessage>(
      ws,
      { decode: (data) => decodeClientFrame(data, host.maxFrameBytes), maxFrameBytes: host.maxFrameBytes },
      {
        messages: (messages) => {
          for (const m of messages) {
            if (this.closed) return;
            this.handle(m);
          }
        },
        invalid: (err) => this.host.log.warn(`client ${this.id || '(unauthenticated)'}: ${err.message}`),
        closed: () => this.onClosed(),
      },
    );
  }

  send(message: ServiceMessage): void {
    if (this.closed) return;
    this.socket.send(message);
  }

  /** Sends what is queued now. */
  flush(): void {
    this.socket.flush();
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  private handle(m: ClientMessage): void {
    if (!this.authed) {
      if (m.type !== 'client-hello' || !sameSecret(m.credential, this.host.credential)) {
        this.host.log.warn('a client presented a wrong credential');
        this.close(CloseCode.authFailed, 'wrong credential');
        return;
      }
      this.authenticated();
      this.authed = true;
      this.name = m.name;
      this.id = this.host.register(this);
      this.send({ type: 'client-welcome', protocol: PROTOCOL_VERSION, clientId: this.id, ...this.host.describe() });
      return;
    }
    switch (m.type) {
      case 'client-hello':
        this.close(CloseCode.protocolError, 'a second client-hello');
        return;
      case 'client-code':
        this.code.set(m.hash, { hash: m.hash, kind: m.kind, source: m.source, name: m.name });
        return;
      case 'submit': {
        const code = this.codeFor(m.id, m.code);
        if (!code) return;
        const options = { timeoutMs: m.timeoutMs, retries: m.retries, retryExceptions: m.retryExceptions, signal: null, inline: m.inline };
        this.track(m.id, () => [this.host.submit(this, code, m.export, m.args, options, { chunk: m.chunk })], (values) => {
          const value = values[0];
          if (value) this.send({ type: 'task-done', id: m.id, value });
        });
        return;
      }
      case 'broadcast': {
        const code = this.codeFor(m.id, m.code);
        if (!code) return;
        const options = { timeoutMs: m.timeoutMs, retries: 0, retryExceptions: m.retryExceptions, signal: null, inline: m.inline };
        const subs = (): Submission[] => this.host.readyAgents().map((agent) => this.host.submit(this, code, m.export, m.args, options, { pinned: agent }));
        this.track(m.id, subs, (values) => this.send({ type: 'broadcast-done', id: m.id, values }));
        return;
      }
      case 'cancel-task':
        for (const s of this.tasks.get(m.id) ?? []) s.cancel(new CancelledError(`task ${m.id} was cancelled by its client`));
        return;
      case 'status':
        this.send({ type: 'status-reply', id: m.id, ...this.host.status() });
        return;
      case 'scale':
        this.host.scale(m.agents).then(
          () => this.send({ type: 'ack', id: m.id }),
          (err: unknown) => this.send({ type: 'ack', id: m.id, error: toWireError(err) }),
        );
        return;
      case 'stop':
        this.send({ type: 'ack', id: m.id });
        this.flush();
        void this.host.stop(`stopped by client ${this.name}`);
        return;
      case 'follow-logs':
        this.follow = m.target;
        this.send({ type: 'ack', id: m.id });
        return;
      case 'actor-create':
        this.createActor(m);
        return;
      case 'actor-call':
        this.callActor(m.id, m.actorId, m.method, m.args);
        return;
      case 'actor-kill': {
        const held = this.held.get(m.actorId);
        this.forget(m.actorId);
        if (!held) {
          this.send({ type: 'ack', id: m.id });
          return;
        }
        held.handle.kill().then(
          () => this.send({ type: 'ack', id: m.id }),
          (err: unknown) => this.send({ type: 'ack', id: m.id, error: toWireError(err) }),
        );
        return;
      }
      case 'actor-get': {
        const handle = this.host.getActor(m.name);
        this.send({ type: 'actors-reply', id: m.id, actors: handle ? [this.hold(handle as AnyActor, false)] : [] });
        return;
      }
      case 'actor-list':
        this.send({ type: 'actors-reply', id: m.id, actors: this.host.actors() });
        return;
      default: {
        const unreachable: never = m;
        throw new Error(`unhandled client message ${JSON.stringify(unreachable)}`);
      }
    }
  }

  private createActor(m: ClientActorCreate): void {
    const code = this.codeFor(m.id, m.code);
    if (!code) return;
    let args: unknown;
    try {
      // Handles among the arguments come back as the service's live handles (and go on as refs).
      args = unpackValue(m.args);
      if (!Array.isArray(args)) throw new TypeError('the constructor arguments are not a list');
    } catch (cause) {
      this.send({ type: 'task-failed', id: m.id, error: toWireError(new ClustrixError('ARGS_NOT_SERIALIZABLE', `the constructor arguments could not be decoded: ${(cause as Error).message}`)) });
      return;
    }
    const o = m.options;
    const options: ActorOptions = { args, maxRestarts: o.maxRestarts, maxConcurrency: o.maxConcurrency, getIfExists: o.getIfExists };
    if (o.name !== null) options.name = o.name;
    if (o.agent !== null) options.agent = o.agent;
    if (o.timeoutMs !== null) options.timeoutMs = o.timeoutMs;
    let created: Promise<ActorHandle>;
    try {
      created = this.host.createActor(code, m.export, options);
    } catch (err) {
      this.send({ type: 'task-failed', id: m.id, error: toWireError(err) });
      return;
    }
    created.then(
      (handle) => {
        // An actor is this client's unless named (a named one outlives it, for other clients).
        const owned = handle.name === null;
        if (this.closed) {
          if (owned) void handle.kill();
          return;
        }
        this.send({ type: 'actors-reply', id: m.id, actors: [this.hold(handle as AnyActor, owned)] });
      },
      (err: unknown) => this.send({ type: 'task-failed', id: m.id, error: toWireError(err) }),
    );
  }

  private callActor(id: string, actorId: string, method: string, packedArgs: Uint8Array): void {
    const held = this.held.get(actorId);
    if (!held) {
      const error = new ActorDiedError(`actor ${actorId} is dead or was never given to this client (create it, or look it up with getActor)`, actorId);
      this.send({ type: 'task-failed', id, error: toWireError(error) });
      return;
    }
    let args: unknown;
    try {
      args = unpackValue(packedArgs);
      if (!Array.isArray(args)) throw new TypeError('the arguments are not a list');
    } catch (cause) {
      this.send({ type: 'task-failed', id, error: toWireError(new ClustrixError('ARGS_NOT_SERIALIZABLE', `arguments of ${method} could not be decoded: ${(cause as Error).message}`)) });
      return;
    }
    held.handle.call(method, ...(args as unknown[])).then(
      (value) => {
        let packed: Uint8Array;
        try {
          packed = packValue(value);
        } catch (cause) {
          this.send({ type: 'task-failed', id, error: toWireError(new ClustrixError('RESULT_NOT_SERIALIZABLE', `the result of ${method} cannot be sent to the client: ${(cause as Error).message}`)) });
          return;
        }
        this.send({ type: 'task-done', id, value: packed });
      },
      (err: unknown) => {
        this.send({ type: 'task-failed', id, error: toWireError(err) });
        this.refreshActor(actorId);
      },
    );
  }

  /** Remembers a handle this client now holds; its row for the reply. */
  private hold(handle: AnyActor, owned: boolean): ActorRow {
    if (!this.held.has(handle.id)) this.held.set(handle.id, { handle, state: handle.state, restarts: handle.restarts });
    if (owned) this.owned.add(handle.id);
    const row = this.host.actors().find((a) => a.id === handle.id);
    return row ?? { id: handle.id, name: handle.name, className: handle.className, agentId: null, state: handle.state, callsServed: 0, restarts: handle.restarts };
  }

  private forget(actorId: string): void {
    this.held.delete(actorId);
    this.owned.delete(actorId);
  }

  /** Tells the client about actors it holds whose state changed (the service calls it every second). */
  refreshActors(): void {
    for (const actorId of [...this.held.keys()]) this.refreshActor(actorId);
  }

  private refreshActor(actorId: string): void {
    const held = this.held.get(actorId);
    if (!held) return;
    const { state, restarts } = held.handle;
    if (state === held.state && restarts === held.restarts) return;
    held.state = state;
    held.restarts = restarts;
    this.send({ type: 'actor-update', actorId, state, restarts });
    if (state === 'dead') this.forget(actorId);
  }

  private codeFor(taskId: string, hash: string): ShippedCode | undefined {
    const code = this.code.get(hash);
    if (!code) this.send({ type: 'task-failed', id: taskId, error: toWireError(new ClustrixError('PROTOCOL_ERROR', `task ${taskId} names code ${hash} that was never sent`)) });
    return code;
  }

  /** Submits (a refusal, e.g. arguments too large, answers that request only) and answers when all settle. */
  private track(id: string, submit: () => Submission[], done: (values: Uint8Array[]) => void): void {
    let subs: Submission[];
    try {
      subs = submit();
    } catch (err) {
      this.send({ type: 'task-failed', id, error: toWireError(err) });
      return;
    }
    this.tasks.set(id, subs);
    Promise.all(subs.map((s) => s.result as Promise<Uint8Array>)).then(
      (values) => {
        this.tasks.delete(id);
        done(values);
      },
      (err: unknown) => {
        this.tasks.delete(id);
        for (const s of subs) s.cancel(new CancelledError('another agent of the same broadcast failed'));
        this.send({ type: 'task-failed', id, error: toWireError(err) });
      },
    );
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    const error = new CancelledError(`client ${this.name || this.id} disconnected`);
    let n = 0;
    for (const subs of this.tasks.values()) {
      for (const s of subs) {
        s.result.catch(() => undefined);
        s.cancel(error);
        n++;
      }
    }
    this.tasks.clear();
    // Its unnamed actors go with it; named ones stay for other clients.
    let killed = 0;
    for (const actorId of this.owned) {
      const held = this.held.get(actorId);
      if (!held || held.handle.state === 'dead') continue;
      held.handle.kill().catch(() => undefined);
      killed++;
    }
    this.owned.clear();
    this.held.clear();
    if (killed) this.host.log.info(`client ${this.id || this.name}: killed ${killed} of its actors`);
    if (this.authed) this.host.unregister(this, n);
  }
}

/** Constant-time comparison of two secrets of any length (hashed first, so lengths do not leak). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
