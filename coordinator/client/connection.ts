import { nanoid } from 'nanoid';
import WebSocket from 'ws';
import type { ActorUpdate, BroadcastDone, ClientMessage, ServiceMessage, StatusReply, TaskDone } from '../../protocol/client-messages.js';
import { decodeServiceFrame } from '../../protocol/client-codec.js';
import { ProtocolError } from '../../protocol/errors.js';
import { FramedSocket } from '../../protocol/framed-socket.js';
import { unpackValue } from '../../protocol/values.js';
import { packArguments } from '../engine/pack.js';
import { CloseCode, DEFAULT_MAX_FRAME_BYTES, PROTOCOL_VERSION } from '../../protocol/version.js';
import { AuthError, CancelledError, ClustrixError, ServiceLostError, ValueTooLargeError } from '../errors/errors.js';
import type { LogEntry } from '../api/logs.js';
import { showOnly } from '../util/show-only.js';
import type { Submission, SubmitExtra, TaskSubmitter } from '../engine/submit.js';
import type { ResolvedTaskOptions } from '../api/task-options.js';
import type { ShippedCode } from '../engine/task.js';
import { fromWireError } from './wire-errors.js';

interface Pending {
  settle(message: ServiceMessage | null, error?: ClustrixError): void;
}

export interface ConnectionEvents {
  log(entry: LogEntry): void;
  status(status: StatusReply): void;
  /** An actor this client holds a handle to changed state. */
  actorUpdate?(update: ActorUpdate): void;
}

/** Requests answered by `status-reply`, `ack`, `actors-reply`, `task-done` or `task-failed`. */
export type ServiceRequest = Extract<ClientMessage, { type: 'status' | 'scale' | 'stop' | 'follow-logs' | 'actor-create' | 'actor-call' | 'actor-kill' | 'actor-get' | 'actor-list' }>;

/**
 * A client's connection to a clustrix service: batched frames, its tasks in flight by id, the code
 * the service already holds. Implements TaskSubmitter, so map/stream fan out over it exactly as
 * they do in process. When the service goes, everything pending fails with ServiceLostError.
 */
export class ServiceConnection implements TaskSubmitter {
  static {
    showOnly(this.prototype, 'ServiceConnection', (c) => ({ address: c.address, clientId: (c.welcome as typeof c.welcome | undefined)?.clientId ?? null }));
  }

  private readonly pending = new Map<string, Pending>();
  private readonly sentCode = new Set<string>();
  private lostWith: ClustrixError | null = null;
  private closing = false;
  welcome!: Extract<ServiceMessage, { type: 'client-welcome' }>;

  private constructor(
    private readonly socket: FramedSocket<ServiceMessage, ClientMessage>,
    readonly address: string,
    private readonly events: ConnectionEvents,
  ) {}

  static async open(address: string, credential: string, name: string, events: ConnectionEvents, timeoutMs = 10_000): Promise<ServiceConnection> {
    const ws = new WebSocket(address, { maxPayload: DEFAULT_MAX_FRAME_BYTES, handshakeTimeout: timeoutMs, perMessageDeflate: false });
    let conn!: ServiceConnection;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new ServiceLostError(`no answer from the clustrix service at ${address} within ${timeoutMs} ms`)), timeoutMs);
      let failed = false;
      const fail = (err: Error): void => {
        if (failed) return;
        failed = true;
        clearTimeout(timer);
        socket.terminate('handshake failed');
        reject(err);
      };
      const socket = new FramedSocket<ServiceMessage, ClientMessage>(
        ws,
        { decode: (data) => decodeServiceFrame(data, DEFAULT_MAX_FRAME_BYTES), maxFrameBytes: DEFAULT_MAX_FRAME_BYTES },
        {
          messages: ([first, ...rest]) => {
            if (first?.type !== 'client-welcome') {
              fail(new ProtocolError('the service did not answer with client-welcome', CloseCode.protocolError));
              return;
            }
            clearTimeout(timer);
            conn = new ServiceConnection(socket, address, events);
            conn.welcome = first;
            socket.setHandlers({
              messages: (m) => conn.receive(m),
              closed: ({ code, reason }) => conn.lost(code, reason),
              // Values are checked before they are packed into a message; this is the net under it.
              oversize: (m, bytes) => {
                if ('id' in m) conn.pending.get(m.id)?.settle(null, new ValueTooLargeError(`a '${m.type}' message of ${bytes} bytes is larger than a frame may be`, 'arguments'));
              },
            });
            resolve();
            if (rest.length > 0) conn.receive(rest);
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
    return conn;
  }

  submit(code: ShippedCode, exportName: string | null, args: unknown[], options: ResolvedTaskOptions, extra: SubmitExtra = {}): Submission {
    const id = nanoid(12);
    const packed = packArguments(args, DEFAULT_MAX_FRAME_BYTES, `task ${id} (${code.name})`);
    return this.track(id, options.signal, code.name, (m) => unpackValue((m as TaskDone).value), () => {
      this.shipCode(code);
      const { timeoutMs, retries, retryExceptions, inline } = options;
      this.send({ type: 'submit', id, code: code.hash, export: exportName, args: packed, inline, chunk: extra.chunk ?? false, timeoutMs, retries, retryExceptions });
    });
  }

  broadcast(code: ShippedCode, exportName: string | null, args: unknown[], options: ResolvedTaskOptions): Promise<unknown[]> {
    const id = nanoid(12);
    const packed = packArguments(args, DEFAULT_MAX_FRAME_BYTES, `broadcast ${id} (${code.name})`);
    return this.track(id, options.signal, code.name, (m) => (m as BroadcastDone).values.map((v) => unpackValue(v)), () => {
      this.shipCode(code);
      const { timeoutMs, retries, retryExceptions, inline } = options;
      this.send({ type: 'broadcast', id, code: code.hash, export: exportName, args: packed, inline, timeoutMs, retries, retryExceptions });
    }).result as Promise<unknown[]>;
  }

  /** Sends a request (after `code`, if the service does not hold it yet) and resolves with its answer. */
  request(message: ServiceRequest, code?: ShippedCode): Promise<ServiceMessage> {
    return new Promise((resolve, reject) => {
      if (this.lostWith) return reject(this.lostWith);
      if (code) this.shipCode(code);
      this.pending.set(message.id, {
        settle: (m, error) => {
          this.pending.delete(message.id);
          if (error) reject(error);
          else if (m?.type === 'task-failed' || (m?.type === 'ack' && m.error)) reject(fromWireError(m.error!));
          else resolve(m as ServiceMessage);
        },
      });
      this.send(message);
    });
  }

  close(): void {
    this.closing = true;
    this.socket.close(CloseCode.normal, 'client closed');
  }

  private track(id: string, signal: AbortSignal | null, name: string, decode: (m: TaskDone | BroadcastDone) => unknown, start: () => void): Submission {
    let resolve!: (v: unknown) => void;
    let reject!: (e: unknown) => void;
    const result = new Promise<unknown>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const onAbort = (): void => cancel(new CancelledError(`task ${id} (${name}) was aborted`, { cause: signal?.reason }));
    const settle = (m: ServiceMessage | null, error?: ClustrixError): void => {
      if (!this.pending.delete(id)) return;
      signal?.removeEventListener('abort', onAbort);
      if (error) return reject(error);
      if (m?.type === 'task-failed') return reject(fromWireError(m.error));
      if (m?.type !== 'task-done' && m?.type !== 'broadcast-done') return reject(new ClustrixError('PROTOCOL_ERROR', `unexpected answer to task ${id}`));
      try {
        resolve(decode(m));
      } catch (cause) {
        reject(new ClustrixError('RESULT_DECODE_FAILED', `the result of task ${id} could not be decoded`, { cause }));
      }
    };
    const cancel = (error: ClustrixError): void => {
      if (!this.pending.has(id)) return;
      this.send({ type: 'cancel-task', id });
      settle(null, error);
    };
    if (this.lostWith) {
      reject(this.lostWith);
    } else if (signal?.aborted) {
      reject(new CancelledError(`task ${id} (${name}) was aborted before it started`, { cause: signal.reason }));
    } else {
      this.pending.set(id, { settle });
      signal?.addEventListener('abort', onAbort, { once: true });
      start();
    }
    return { id, result, cancel };
  }

  private shipCode(code: ShippedCode): void {
    if (this.sentCode.has(code.hash)) return;
    this.sentCode.add(code.hash);
    this.send({ type: 'client-code', hash: code.hash, kind: code.kind, source: code.source, name: code.name.slice(0, 1000) });
  }

  private send(message: ClientMessage): void {
    if (this.lostWith) return;
    this.socket.send(message);
  }

  private receive(messages: ServiceMessage[]): void {
    for (const m of messages) {
      switch (m.type) {
        case 'task-done':
        case 'broadcast-done':
        case 'task-failed':
        case 'ack':
        case 'actors-reply':
          this.pending.get(m.id)?.settle(m);
          break;
        case 'actor-update':
          this.events.actorUpdate?.(m);
          break;
        case 'status-reply':
          this.events.status(m);
          this.pending.get(m.id)?.settle(m);
          break;
        case 'task-log':
          this.events.log({ agentId: m.agentId, taskId: m.taskId, stream: m.stream, text: m.text });
          break;
        case 'service-closing':
          // Everything pending fails with this now, not with the CLUSTER_CLOSED the pool is about to send.
          this.lostWith = new ServiceLostError(`the clustrix service at ${this.address} stopped (${m.reason})`);
          for (const p of [...this.pending.values()]) p.settle(null, this.lostWith);
          break;
        case 'client-welcome':
          break;
        default: {
          const unreachable: never = m;
          throw new Error(`unhandled service message ${JSON.stringify(unreachable)}`);
        }
      }
    }
  }

  private lost(code: number, reason: string): void {
    this.lostWith ??= this.closing
      ? new ClustrixError('CLUSTER_CLOSED', 'this client was closed', { hint: 'connect again with Cluster.connect()' })
      : new ServiceLostError(`lost the clustrix service at ${this.address} (connection closed: ${code}${reason ? ` ${reason}` : ''})`);
    for (const p of [...this.pending.values()]) p.settle(null, this.lostWith);
    this.pending.clear();
  }
}
