import WebSocket from 'ws';
import { decodeServiceFrame } from '../../protocol/client-codec.js';
import { Bytes } from '../../protocol/common.js';
import type { CoreArgs, CoreMethodName, CoreResult, TaskSpec } from '../../protocol/core-methods.js';
import { FramedSocket } from '../../protocol/framed-socket.js';
import { Gathering } from '../../protocol/gathering.js';
import { MAX_BATCH, ServiceEvents, ServiceMethods, type ClientMessage, type ClientWelcome, type ServiceArgs, type ServiceMessage, type ServiceMethodName, type ServiceResult, type Submits } from '../../protocol/service-messages.js';
import { CloseCode, DEFAULT_MAX_FRAME_BYTES, PROTOCOL_VERSION, wsMessageLimit } from '../../protocol/version.js';
import { serviceEnvironment, type PoolEnvironment } from '../code/agent-environment.js';
import type { OutcomeSink, ShippedCode } from '../engine/task.js';
import { AuthError, ClusterClosedError, ProtocolError, ServiceLostError, ValueTooLargeError, type ClustrixError } from '../errors/errors.js';
import { fromWireError } from '../errors/registry.js';
import { showOnly } from '../util/show-only.js';
import type { Transport, TransportEvents, TransportInfo } from './transport.js';
import { TaskIndex } from '../util/task-index.js';
import { CLIENT_SOCKET_OPTIONS } from '../../protocol/client-socket.js';

interface Pending {
  method: ServiceMethodName;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Socket = FramedSocket<ServiceMessage, ClientMessage>;

/** A submit's answer told to its task's sink: one object per task, not a promise and its closures. */
class SinkPending implements Pending {
  readonly method = 'submit';

  constructor(private readonly sink: OutcomeSink) {}

  resolve(value: unknown): void {
    this.sink.settled({ ok: true, value: value as Uint8Array });
  }

  reject(error: unknown): void {
    this.sink.settled({ ok: false, error });
  }
}

/** Methods whose result schema is `Bytes`: an answer that is a Uint8Array is what the schema would return. */
const BYTES_RESULT: ReadonlySet<string> = new Set(Object.entries(ServiceMethods).flatMap(([name, m]) => (m.result === Bytes ? [name] : [])));

/**
 * The transport of `Cluster.connect()`: one WebSocket to a service, carrying requests for the core
 * methods and the service's own (status, stop), their responses, and the events it pushes. When
 * the service goes, every pending call fails with ServiceLostError.
 */
export class RemoteTransport implements Transport {
  static {
    showOnly(this.prototype, 'RemoteTransport', (t) => ({ id: t.welcome.clientId, address: t.address }));
  }

  /** Requests not answered yet, by id (a counter: found without hashing, see task-index.ts). */
  private readonly pending = new TaskIndex<Pending>();
  /** Submits of one tick that differ only in id and args (a map's), sent as one `submits` message. */
  private readonly submits = new Gathering<Submits>((m) => this.socket.send(m));
  private gatheredBytes = 0;
  private readonly sentCode = new Set<string>();
  private events: TransportEvents | null = null;
  private lostWith: ClustrixError | null = null;
  private closing = false;
  private nextId = 0;

  private constructor(
    private readonly socket: Socket,
    readonly address: string,
    private readonly welcome: ClientWelcome,
  ) {}

  /** Connects and authenticates; resolves once the service has welcomed this client. */
  static open(address: string, credential: string, name: string, timeoutMs = 10_000): Promise<RemoteTransport> {
    const ws = new WebSocket(address, { ...CLIENT_SOCKET_OPTIONS, maxPayload: wsMessageLimit(DEFAULT_MAX_FRAME_BYTES), handshakeTimeout: timeoutMs });
    return new Promise<RemoteTransport>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        socket.terminate('handshake failed');
        reject(err);
      };
      const timer = setTimeout(() => fail(new ServiceLostError(`no answer from the clustrix service at ${address} within ${timeoutMs} ms`)), timeoutMs);
      const socket: Socket = new FramedSocket<ServiceMessage, ClientMessage>(
        ws,
        { decode: (data, segments) => decodeServiceFrame(data, DEFAULT_MAX_FRAME_BYTES, segments), maxFrameBytes: DEFAULT_MAX_FRAME_BYTES },
        {
          messages: ([first, ...rest]) => {
            if (first?.type !== 'client-welcome') {
              fail(new ProtocolError('the service did not answer with client-welcome', CloseCode.protocolError));
              return;
            }
            settled = true;
            clearTimeout(timer);
            const transport = new RemoteTransport(socket, address, first);
            socket.setHandlers({
              messages: (m) => transport.receive(m),
              closed: ({ code, reason }) => transport.lost(code, reason),
              // Values are checked before they are packed into a request; this is the net under it.
              oversize: (m, bytes) => {
                if (m.type === 'request') transport.settle(m.id, null, new ValueTooLargeError(`a '${m.method}' request of ${bytes} bytes is larger than a frame may be`, 'arguments'));
                if (m.type === 'submits') for (const id of m.ids) transport.settle(id, null, new ValueTooLargeError(`${m.ids.length} submits of ${bytes} bytes are larger than a frame may be`, 'arguments'));
              },
            });
            resolve(transport);
            if (rest.length > 0) transport.receive(rest);
          },
          invalid: (err) => fail(err),
          closed: ({ code, reason }) => {
            if (code === CloseCode.authFailed) fail(new AuthError(`the clustrix service at ${address} refused the credential`));
            else fail(new ServiceLostError(`the clustrix service at ${address} closed the connection (${code}${reason ? ` ${reason}` : ''})`));
          },
        },
      );
      ws.once('error', (err) => fail(new ServiceLostError(`cannot reach the clustrix service at ${address}: ${err.message}`)));
      ws.once('open', () => socket.send({ type: 'client-hello', protocol: PROTOCOL_VERSION, credential, name }));
    });
  }

  get info(): TransportInfo {
    const w = this.welcome;
    return { id: w.clientId, mode: 'connected', backend: w.backend, profile: w.profile, retries: w.retries, maxFrameBytes: w.maxFrameBytes };
  }

  get agentEnvironments(): readonly PoolEnvironment[] {
    return [{ pool: null, environment: serviceEnvironment(this.welcome.backend) }];
  }

  /** The service's id (for status output). */
  get serviceId(): string {
    return this.welcome.serviceId;
  }

  call<M extends CoreMethodName>(method: M, ...args: CoreArgs<M>): Promise<CoreResult<M>> {
    if (method === 'submit') return new Promise((resolve, reject) => this.submit((args as CoreArgs<'submit'>)[0], { method: 'submit', resolve: resolve as (v: unknown) => void, reject }));
    return this.request(method, args) as Promise<CoreResult<M>>;
  }

  submitTask(spec: TaskSpec, sink: OutcomeSink): null {
    this.submit(spec, new SinkPending(sink));
    return null;
  }

  /** A submit, gathered with the others of this tick that share everything but id and args. */
  private submit(spec: TaskSpec, pending: Pending): void {
    if (this.lostWith) return pending.reject(this.lostWith);
    const id = this.requestId();
    this.pending.set(id, pending);
    if (!gatherable(spec)) return this.send({ type: 'request', id, method: 'submit', args: [spec] });
    const open = this.submits.current;
    const bytes = spec.args.byteLength;
    if (open !== null && open.ids.length < MAX_BATCH && this.gatheredBytes + bytes <= MAX_GATHERED_BYTES && sameBase(open.base, spec)) {
      open.ids.push(id);
      open.tasks.push(spec.id);
      open.args.push(spec.args);
      this.gatheredBytes += bytes;
      return;
    }
    const { id: task, args, ...base } = spec;
    this.gatheredBytes = bytes;
    this.submits.begin({ type: 'submits', base, ids: [id], tasks: [task], args: [args] });
  }

  /** The methods only a service has (the CLI's): status, stop. */
  callService<M extends ServiceMethodName>(method: M, ...args: ServiceArgs<M>): Promise<ServiceResult<M>> {
    return this.request(method, args) as Promise<ServiceResult<M>>;
  }

  ship(code: ShippedCode): void {
    if (this.sentCode.has(code.hash) || this.lostWith) return;
    this.sentCode.add(code.hash);
    this.send({ type: 'code', hash: code.hash, kind: code.kind, source: code.source, name: code.name.slice(0, 1000) });
  }

  setEvents(events: TransportEvents): void {
    this.events = events;
  }

  /** Detaches: this client's queued tasks are dropped and running ones cancelled by the service. */
  async close(): Promise<void> {
    this.closing = true;
    this.submits.flush();
    this.socket.close(CloseCode.normal, 'client closed');
  }

  private request(method: ServiceMethodName, args: unknown[]): Promise<unknown> {
    if (this.lostWith) return Promise.reject(this.lostWith);
    const id = this.requestId();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { method, resolve, reject });
      this.send({ type: 'request', id, method, args });
    });
  }

  /** A request's id: a counter in the form TaskIndex finds by its number. */
  private requestId(): string {
    return `r.${(++this.nextId).toString(36)}`;
  }

  /** Every message but the gathered submits goes through here: the open gathering leaves first, so order is kept. */
  private send(message: ClientMessage): void {
    this.submits.flush();
    this.socket.send(message);
  }

  private settle(id: string, value: unknown, error?: unknown): void {
    const p = this.pending.take(id);
    if (!p) return;
    if (error !== undefined) {
      p.reject(error);
      return;
    }
    // The service's answer is checked like any input from the network (bytes, the answer of every task, by hand).
    if (value instanceof Uint8Array && BYTES_RESULT.has(p.method)) {
      p.resolve(value);
      return;
    }
    const parsed = ServiceMethods[p.method].result.safeParse(value);
    if (parsed.success) p.resolve(parsed.data);
    else p.reject(new ProtocolError(`the service answered ${p.method} with a value of the wrong shape: ${parsed.error.issues[0]?.message ?? 'invalid'}`, CloseCode.protocolError));
  }

  private receive(messages: ServiceMessage[]): void {
    for (const m of messages) {
      switch (m.type) {
        case 'response':
          if (m.ok) this.settle(m.id, m.value);
          else this.settle(m.id, null, fromWireError(m.error));
          break;
        case 'results':
          for (let i = 0; i < m.ids.length; i++) this.settle(m.ids[i]!, m.values[i]);
          break;
        case 'event':
          this.onEvent(m.name, m.data);
          break;
        case 'client-welcome':
          this.socket.close(CloseCode.protocolError, 'a second client-welcome');
          return;
        default: {
          const unreachable: never = m;
          throw new Error(`unhandled service message ${JSON.stringify(unreachable)}`);
        }
      }
    }
  }

  private onEvent(name: string, raw: unknown): void {
    switch (name) {
      case 'agents': {
        const agents = this.eventData(ServiceEvents.agents, name, raw);
        if (agents) this.events?.agents(agents);
        return;
      }
      case 'actor': {
        const info = this.eventData(ServiceEvents.actor, name, raw);
        if (info) this.events?.actor(info);
        return;
      }
      case 'log': {
        const entry = this.eventData(ServiceEvents.log, name, raw);
        if (entry) this.events?.log(entry);
        return;
      }
      case 'closing': {
        // Everything pending fails with this now, not with the CLUSTER_CLOSED the pool is about to send.
        const closing = this.eventData(ServiceEvents.closing, name, raw);
        if (closing) this.fail(new ServiceLostError(`the clustrix service at ${this.address} stopped (${closing.reason})`));
        return;
      }
      default:
        return; // a newer service's event: not ours to know
    }
  }

  /** An event's data, checked like any input from the network; a bad one closes the connection. */
  private eventData<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } }, name: string, raw: unknown): T | null {
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    this.socket.close(CloseCode.protocolError, `the service sent a '${name}' event of the wrong shape`);
    return null;
  }

  private lost(code: number, reason: string): void {
    this.fail(
      this.closing
        ? new ClusterClosedError('this client was closed', { hint: 'connect again with Cluster.connect()' })
        : new ServiceLostError(`lost the clustrix service at ${this.address} (connection closed: ${code}${reason ? ` ${reason}` : ''})`),
    );
  }

  private fail(error: ClustrixError): void {
    if (this.lostWith) return;
    this.lostWith = error;
    for (const p of [...this.pending.values()]) p.reject(error);
    this.pending.clear();
    if (!this.closing) this.events?.lost?.(error);
  }
}

/** Most bytes of arguments one `submits` message gathers (so it stays far below any frame limit). */
const MAX_GATHERED_BYTES = 256 * 1024;

/** A submit a `submits` message can carry: no refs, no kept result, small arguments. */
function gatherable(spec: TaskSpec): boolean {
  return spec.refs.length === 0 && spec.keep === null && spec.args.byteLength <= 16 * 1024;
}

/** Whether `spec` is `base` with another id and args (the tasks of one map share their options and call). */
function sameBase(base: Submits['base'], spec: TaskSpec): boolean {
  return (
    base.code === spec.code &&
    base.export === spec.export &&
    base.inline === spec.inline &&
    base.chunk === spec.chunk &&
    base.timeoutMs === spec.timeoutMs &&
    base.retries === spec.retries &&
    base.retryExceptions === spec.retryExceptions &&
    base.priority === spec.priority &&
    base.weight === spec.weight &&
    base.group === spec.group &&
    base.resources === spec.resources &&
    base.pool === spec.pool &&
    (base.call === spec.call || (base.call?.id === spec.call?.id && base.call?.label === spec.call?.label)) &&
    base.refs.length === 0 &&
    base.keep === null
  );
}
