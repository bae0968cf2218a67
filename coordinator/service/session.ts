import { createHash, timingSafeEqual } from 'node:crypto';
import type WebSocket from 'ws';
import { decodeClientFrame } from '../../protocol/client-codec.js';
import { CoreMethods, type CoreMethodName, type TaskSpec } from '../../protocol/core-methods.js';
import { FramedSocket } from '../../protocol/framed-socket.js';
import { Gathering } from '../../protocol/gathering.js';
import { HOT_METHOD_ARGS } from '../../protocol/hot-messages.js';
import { MAX_BATCH, ServiceMethods, type ClientMessage, type Request, type Results, type ServiceMessage, type ServiceStatus, type Submits } from '../../protocol/service-messages.js';
import { CloseCode, PROTOCOL_VERSION } from '../../protocol/version.js';
import type { Engine } from '../engine/engine.js';
import type { EngineScope } from '../engine/scope.js';
import type { OutcomeSink, Settled } from '../engine/task.js';
import { CancelledError, ProtocolError } from '../errors/errors.js';
import { toWireError } from '../errors/registry.js';
import type { Logger } from '../util/logger.js';
import { Inbox } from './inbox.js';

/** What a session needs from the service that holds the engine. */
export interface SessionHost {
  readonly credential: string;
  readonly maxFrameBytes: number;
  readonly log: Logger;
  readonly engine: Engine;
  register(session: ClientSession): string;
  unregister(session: ClientSession, released: { tasks: number; actors: number }): void;
  describe(): { serviceId: string; profile: string; backend: string };
  status(): ServiceStatus;
  stop(reason: string): Promise<void>;
}

/**
 * The service's side of one client connection, generic over the method table: authenticates the
 * client, opens its engine scope, checks each request's arguments against its method's schema,
 * calls the scope (or the service, for status and stop) and answers; pushes the scope's events.
 * Closing it closes the scope: the client's tasks stop and its unnamed actors die.
 */
export class ClientSession {
  id = '';
  name = '';
  readonly connectedAt = Date.now();
  private scope: EngineScope | null = null;
  private closed = false;
  private readonly socket: FramedSocket<ClientMessage, ServiceMessage>;
  /** The bytes answers of one tick (a map's results), sent as one `results` message. */
  private readonly results = new Gathering<Results>((m) => this.socket.send(m));
  private gatheredBytes = 0;
  /** What the client sent, in order, a gathered `submits` taken in a slice per loop turn. */
  private readonly inbox = new Inbox<ClientMessage>(SUBMITS_PER_TURN, {
    size: (m) => (m.type === 'submits' ? m.ids.length : 1),
    handle: (m, from, to) => this.handle(m, from, to),
    guard: (run) => this.socket.guard(run),
    stopped: () => this.closed,
  });

  constructor(
    ws: WebSocket,
    private readonly host: SessionHost,
    /** Lifts the endpoint's deadline for unauthenticated connections. */
    private readonly authenticated: () => void,
  ) {
    this.socket = new FramedSocket<ClientMessage, ServiceMessage>(
      ws,
      { decode: (data, segments) => decodeClientFrame(data, host.maxFrameBytes, segments), maxFrameBytes: host.maxFrameBytes },
      {
        messages: (messages) => this.inbox.push(messages),
        invalid: (err) => this.host.log.warn(`client ${this.id || '(unauthenticated)'}: ${err.message}`),
        oversize: (m, bytes) => {
          // Gathered results are a fraction of any frame limit; should they not fit, each goes alone.
          if (m.type === 'results') for (let i = 0; i < m.ids.length; i++) this.socket.send({ type: 'response', id: m.ids[i]!, ok: true, value: m.values[i] });
          if (m.type === 'response') this.socket.send({ type: 'response', id: m.id, ok: false, error: toWireError(new ProtocolError(`the answer is ${bytes} bytes, larger than a frame may be`, CloseCode.tooBig)) });
        },
        closed: () => this.onClosed(),
      },
    );
  }

  /** Tasks of this client queued or running. */
  get taskCount(): number {
    return this.scope?.taskCount ?? 0;
  }

  send(message: ServiceMessage): void {
    if (this.closed) return;
    this.results.flush();
    this.socket.send(message);
  }

  /**
   * A successful answer. One to a gathered submit is gathered with the others of this tick when it
   * is small bytes (a task's result); a `request` is always answered by a `response`.
   */
  /** @internal */
  answered(id: string, value: unknown, gather: boolean): void {
    if (this.closed) return;
    if (!gather || !(value instanceof Uint8Array) || value.byteLength > MAX_GATHERED_VALUE) {
      this.send({ type: 'response', id, ok: true, value });
      return;
    }
    const open = this.results.current;
    if (open !== null && open.ids.length < MAX_BATCH && this.gatheredBytes + value.byteLength <= MAX_GATHERED_BYTES) {
      open.ids.push(id);
      open.values.push(value);
      this.gatheredBytes += value.byteLength;
      return;
    }
    this.gatheredBytes = value.byteLength;
    this.results.begin({ type: 'results', ids: [id], values: [value] });
  }

  close(code: number, reason: string): void {
    this.results.flush();
    this.socket.close(code, reason);
  }

  /** Handles `m`; of a `submits`, its tasks [from, to). */
  private handle(m: ClientMessage, from: number, to: number): void {
    if (!this.scope) {
      if (m.type !== 'client-hello' || !sameSecret(m.credential, this.host.credential)) {
        this.host.log.warn('a client presented a wrong credential');
        this.close(CloseCode.authFailed, 'wrong credential');
        return;
      }
      this.authenticated();
      this.name = m.name;
      this.id = this.host.register(this);
      this.scope = this.host.engine.openScope(`client ${this.id} (${this.name})`, {
        agents: (data) => this.send({ type: 'event', name: 'agents', data }),
        actor: (data) => this.send({ type: 'event', name: 'actor', data }),
        log: (data) => this.send({ type: 'event', name: 'log', data }),
      }, 'scope');
      const { retries, maxFrameBytes } = this.host.engine.info;
      this.send({ type: 'client-welcome', protocol: PROTOCOL_VERSION, clientId: this.id, ...this.host.describe(), retries, maxFrameBytes });
      return;
    }
    switch (m.type) {
      case 'client-hello':
        this.close(CloseCode.protocolError, 'a second client-hello');
        return;
      case 'code':
        this.scope.addCode({ hash: m.hash, kind: m.kind, source: m.source, name: m.name });
        return;
      case 'request':
        this.request(this.scope, m);
        return;
      case 'submits':
        this.submits(this.scope, m, from, to);
        return;
      default: {
        const unreachable: never = m;
        throw new Error(`unhandled client message ${JSON.stringify(unreachable)}`);
      }
    }
  }

  /** Answers request `id` with what `run` settles with. */
  private answer(id: string, run: () => Promise<unknown>, gather = false): void {
    run().then(
      (value) => this.answered(id, value, gather),
      (err: unknown) => this.send({ type: 'response', id, ok: false, error: toWireError(err) }),
    );
  }

  /** Gathered submits [from, to) (validated with their message): each is answered as its own `submit` request, the results gathered. */
  private submits(scope: EngineScope, m: Submits, from: number, to: number): void {
    const { base, ids, tasks, args } = m;
    // A literal, not a spread: one object shape for every task the engine sees (and a spread of 15
    // keys was a hot spot). One for the slice, its id and args set per task: submitTask keeps none of it.
    const spec: TaskSpec = {
      id: '', code: base.code, export: base.export, args: EMPTY, refs: base.refs, keep: base.keep, inline: base.inline, chunk: base.chunk, timeoutMs: base.timeoutMs,
      retries: base.retries, retryExceptions: base.retryExceptions, priority: base.priority, weight: base.weight, group: base.group, resources: base.resources, pool: base.pool, call: base.call,
    };
    for (let i = from; i < to; i++) {
      spec.id = tasks[i]!;
      spec.args = args[i]!;
      const answer = new SubmitAnswer(this, ids[i]!);
      try {
        scope.submitTask(spec, answer);
      } catch (error) {
        answer.settled({ ok: false, error });
      }
    }
  }

  /** One request: a bad method or bad arguments answer that request with an error, not the connection. */
  private request(scope: EngineScope, m: Request): void {
    const answer = (run: () => Promise<unknown>): void => this.answer(m.id, run);
    if (!Object.hasOwn(ServiceMethods, m.method)) {
      answer(() => Promise.reject(new ProtocolError(`the service has no method '${m.method.slice(0, 64)}'`, CloseCode.protocolError, { hint: 'run the same clustrix version for the service (clustrix up) and its clients' })));
      return;
    }
    const method = m.method as keyof typeof ServiceMethods;
    // The hottest argument lists (a connected map's submits) are checked by hand; the rest, and any odd one, by the schema.
    const parsed = HOT_METHOD_ARGS.get(method)?.(m.args) === true ? { success: true as const, data: m.args } : ServiceMethods[method].args.safeParse(m.args);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      answer(() => Promise.reject(new ProtocolError(`bad arguments for ${method}: ${issue ? `${issue.path.join('.') || '(args)'}: ${issue.message}` : 'invalid'}`, CloseCode.protocolError)));
      return;
    }
    switch (method) {
      case 'status':
        answer(async () => this.host.status());
        return;
      case 'stop':
        this.send({ type: 'response', id: m.id, ok: true, value: null });
        this.socket.flush();
        void this.host.stop(`stopped by client ${this.name}`);
        return;
      default: {
        const core: CoreMethodName = method;
        const handler = scope[core] as (...args: unknown[]) => Promise<unknown>;
        answer(() => handler(...(parsed.data as unknown[])));
      }
    }
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.scope) return;
    const released = this.scope.close(new CancelledError(`client ${this.id} (${this.name}) disconnected`));
    this.host.unregister(this, released);
  }
}

/**
 * Gathered submits one client's message may have taken in before the loop turn ends (inbox.ts):
 * a map's message of 4,096 took ~10 ms of the service's loop in one go, and every other client's
 * frame waited behind it. A slice is ~1 ms.
 */
const SUBMITS_PER_TURN = 256;

const EMPTY = new Uint8Array(0);

/** Results larger than this travel in a response of their own. */
const MAX_GATHERED_VALUE = 16 * 1024;
/** Most bytes of values one `results` message gathers. */
const MAX_GATHERED_BYTES = 256 * 1024;

/** Type-level check: every core method is also a service method (the session dispatches them alike). */
export type _CoreIsService = keyof typeof CoreMethods extends keyof typeof ServiceMethods ? true : never;

/** Constant-time comparison of two secrets of any length (hashed first, so lengths do not leak). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** Answers one gathered submit with its task's outcome: one object per task, not a promise and its closures. */
class SubmitAnswer implements OutcomeSink {
  constructor(
    private readonly session: ClientSession,
    private readonly id: string,
  ) {}

  settled(outcome: Settled): void {
    if (outcome.ok) this.session.answered(this.id, outcome.value, true);
    else this.session.send({ type: 'response', id: this.id, ok: false, error: toWireError(outcome.error) });
  }
}
