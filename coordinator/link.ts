import type WebSocket from 'ws';
import type { AgentMessage, Hello } from '../protocol/agent-messages.js';
import type { CoordinatorMessage } from '../protocol/coordinator-messages.js';
import { decodeAgentFrame, encodeFrame } from '../protocol/codec.js';
import { ProtocolError } from '../protocol/errors.js';
import { CloseCode } from '../protocol/version.js';
import type { TaskRecord } from './task.js';

/** Lifecycle of a link: taking work, finishing what it has (no new work), gone. */
export type LinkState = 'ready' | 'draining' | 'closed';

export interface LinkEvents {
  message(link: AgentLink, message: AgentMessage): void;
  closed(link: AgentLink, reason: string): void;
}

/**
 * The coordinator's side of one agent connection: batched sends, the tasks in flight on it, the
 * code it already holds, and the heartbeat that notices a silent agent.
 */
export class AgentLink {
  state: LinkState = 'ready';
  /** Tasks sent and not yet reported, by id. */
  readonly inflight = new Map<string, TaskRecord>();
  /** How many of `inflight` are inline tasks (they do not use worker slots). */
  inlineInflight = 0;
  /** Code hashes this agent has received on this connection. */
  readonly sentCode = new Set<string>();
  readonly connectedAt = Date.now();
  tasksDone = 0;
  /** Slots held by actors living on this agent; the scheduler keeps tasks off them. */
  actorSlots = 0;
  /** Smoothed run time of one task on this agent, ms; sizes the pipeline. */
  avgRunMs = 1;
  rssBytes = 0;
  /** Smoothed round trip of heartbeats, ms (0 until measured). */
  rttMs = 0;
  private outbox: CoordinatorMessage[] = [];
  private flushQueued = false;
  private lastHeard = Date.now();
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    readonly id: string,
    readonly hello: Hello,
    private readonly ws: WebSocket,
    private readonly maxFrameBytes: number,
    heartbeatMs: number,
    private readonly events: LinkEvents,
  ) {
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
    ws.on('close', (code: number, reason: Buffer) => this.onClose(`connection closed (${code}${reason.length ? `: ${reason.toString()}` : ''})`));
    ws.on('error', () => undefined);
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastHeard > 3 * heartbeatMs) {
        this.close(CloseCode.heartbeatTimeout, `no heartbeat for ${Math.round((Date.now() - this.lastHeard) / 1000)} s`);
        return;
      }
      this.send({ type: 'ping', t: Date.now() });
    }, heartbeatMs);
    this.heartbeat.unref();
  }

  get slots(): number {
    return this.hello.slots;
  }

  /** Queues a message; everything queued in one tick leaves as one frame. */
  send(message: CoordinatorMessage): void {
    if (this.state === 'closed') return;
    this.outbox.push(message);
    if (!this.flushQueued) {
      this.flushQueued = true;
      // A busy agent gets bigger, fewer frames (wait for the rest of this loop turn's results);
      // a quiet one gets its task at once.
      if (this.inflight.size > 2 * this.slots) setImmediate(this.flush);
      else queueMicrotask(this.flush);
    }
  }

  /** Handles frames that arrived together with the hello. */
  deliver(messages: readonly AgentMessage[]): void {
    for (const m of messages) {
      if (this.state === 'closed') return;
      this.events.message(this, m);
    }
  }

  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.flush();
    this.ws.close(code, reason.slice(0, 120));
    this.onClose(reason);
  }

  /** Kills the connection without a closing handshake (used when a peer misbehaves). */
  terminate(reason: string): void {
    if (this.state === 'closed') return;
    this.ws.terminate();
    this.onClose(reason);
  }

  private readonly flush = (): void => {
    this.flushQueued = false;
    if (this.outbox.length === 0 || this.state === 'closed') return;
    const batch = this.outbox;
    this.outbox = [];
    this.ws.send(encodeFrame(batch));
  };

  private receive(data: Buffer, isBinary: boolean): void {
    this.lastHeard = Date.now();
    let messages: AgentMessage[];
    try {
      if (!isBinary) throw new ProtocolError('a text frame arrived; the protocol is binary msgpack', CloseCode.protocolError);
      messages = decodeAgentFrame(data, this.maxFrameBytes);
    } catch (err) {
      const pe = err instanceof ProtocolError ? err : new ProtocolError(String(err), CloseCode.protocolError);
      this.close(pe.closeCode, `protocol error: ${pe.message}`);
      return;
    }
    this.deliver(messages);
  }

  private onClose(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.heartbeat);
    this.outbox = [];
    this.events.closed(this, reason);
  }
}
