import type { AgentMessage, Hello } from '../../protocol/agent-messages.js';
import type { Resources } from '../../protocol/resources.js';
import type { CoordinatorMessage } from '../../protocol/coordinator-messages.js';
import { AgentFeature, CloseCode } from '../../protocol/version.js';
import type { AgentSocket } from './agent-server.js';
import type { ShippedCode, TaskRecord } from './task.js';
import { TaskIndex } from '../util/task-index.js';

/** What a link needs of its agent's connection: a framed socket, or a test's fake agent. */
export type LinkSocket = Pick<AgentSocket, 'setHandlers' | 'setDeferFlush' | 'send' | 'close' | 'terminate' | 'lastHeard'> & Partial<Pick<AgentSocket, 'bytesIn' | 'bytesOut'>>;

/** Lifecycle of a link: taking work, finishing what it has (no new work), gone. */
export type LinkState = 'ready' | 'draining' | 'closed';

export interface LinkEvents {
  message(link: AgentLink, message: AgentMessage): void;
  closed(link: AgentLink, reason: string): void;
  /** The agent sent a frame that did not decode or validate (the link closes next). */
  invalid?(link: AgentLink, reason: string): void;
  /** A message for the agent was larger than a frame may be and was not sent. */
  oversize?(link: AgentLink, message: CoordinatorMessage, bytes: number): void;
}

/**
 * The coordinator's side of one agent connection: batched sends, the tasks in flight on it, the
 * code it already holds, and the heartbeat that notices a silent agent.
 */
export class AgentLink {
  state: LinkState = 'ready';
  /** Tasks sent and not yet reported, by id. */
  readonly inflight = new TaskIndex<TaskRecord>();
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
  /** The agent's bytes with its peers, as of its last pong. */
  peerBytes = { in: 0, out: 0 };
  /** `measure()` calls waiting for a pong to a ping sent at or after their `t`. */
  private readonly measuring: { t: number; resolve(): void }[] = [];
  /** Smoothed round trip of heartbeats, ms (0 until measured). */
  rttMs = 0;
  /** Smoothed completions per ms while busy (0 until measured): sizes the pipeline by time. */
  doneRate = 0;
  private rateSince = 0;
  private rateCount = 0;
  /** Where other agents fetch this agent's objects (its PeerServer); null: only through the coordinator. */
  peerAddress: string | null = null;
  /** What tasks that asked for resources hold of it now, by name (cpus included). */
  readonly reserved: Record<string, number> = {};
  /** How many of `inflight` asked for resources (they are not pipelined and hold `reserved`). */
  constrainedInflight = 0;
  /** How many of `inflight` were sent parked (held on the agent until their deps land there). */
  parkedInflight = 0;
  /** Whether the agent holds parked tasks (it said so in its hello; older agents do not). */
  readonly parks: boolean;
  /** The pool that launched it (its agents() row names it). */
  pool = 'default';
  /** When its last task ended (or it connected): adaptive scaling stops agents idle since long. */
  lastActiveAt = Date.now();
  /** What it offers: cpus are its slots. */
  readonly resources: Resources;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(
    readonly id: string,
    readonly hello: Hello,
    private readonly socket: LinkSocket,
    heartbeatMs: number,
    private readonly events: LinkEvents,
  ) {
    this.resources = { memory: hello.memoryBytes, ...hello.resources, cpus: hello.slots };
    this.parks = hello.features?.includes(AgentFeature.park) ?? false;
    socket.setHandlers({
      messages: (messages) => this.deliver(messages),
      closed: ({ code, reason, local }) => this.onClose(local ? reason : `connection closed (${code}${reason ? `: ${reason}` : ''})`),
      invalid: (err) => this.events.invalid?.(this, err.message),
      oversize: (message, bytes) => this.events.oversize?.(this, message, bytes),
    });
    // A busy agent gets bigger, fewer frames (wait for the rest of this loop turn's results);
    // a quiet one gets its task at once.
    socket.setDeferFlush(() => this.inflight.size > 2 * this.slots);
    this.heartbeat = setInterval(() => {
      const silent = Date.now() - socket.lastHeard;
      if (silent > 3 * heartbeatMs) {
        this.close(CloseCode.heartbeatTimeout, `no heartbeat for ${Math.round(silent / 1000)} s`);
        return;
      }
      this.send({ type: 'ping', t: Date.now() });
    }, heartbeatMs);
    this.heartbeat.unref();
  }

  /**
   * A task it ran was reported: feeds the completion rate, measured over windows of about 10 ms
   * of busy time (idle time does not count: the meter restarts when work comes back).
   */
  completed(): void {
    const now = performance.now();
    if (this.rateSince === 0) {
      this.rateSince = now;
      this.rateCount = 0;
    } else {
      this.rateCount++;
      const span = now - this.rateSince;
      if (span >= 10) {
        const sample = this.rateCount / span;
        this.doneRate = this.doneRate === 0 ? sample : this.doneRate + (sample - this.doneRate) * 0.3;
        this.rateSince = now;
        this.rateCount = 0;
      }
    }
    if (this.inflight.size === 0) this.rateSince = 0;
  }

  get slots(): number {
    return this.hello.slots;
  }

  /** Bytes of frames from and to this agent so far. */
  get bytes(): { in: number; out: number } {
    return { in: this.socket.bytesIn ?? 0, out: this.socket.bytesOut ?? 0 };
  }

  /** A pong arrived (`t`: its ping's): its figures are in; `measure()` calls it answers resolve. */
  ponged(t: number, rssBytes: number, peerBytes: { in: number; out: number }): void {
    this.rssBytes = rssBytes;
    this.peerBytes = peerBytes;
    for (let i = this.measuring.length - 1; i >= 0; i--) {
      const m = this.measuring[i]!;
      if (m.t > t) continue;
      this.measuring.splice(i, 1);
      m.resolve();
    }
  }

  /**
   * Fresh figures: pings now and resolves at the pong (or after `timeoutMs`, keeping the last
   * ones: a stuck agent does not stall the caller).
   */
  measure(timeoutMs: number): Promise<void> {
    const t = Date.now();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      const entry = { t, resolve: done };
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.measuring.push(entry);
      this.send({ type: 'ping', t });
    });
  }

  /**
   * Sends `code` unless this agent has it (its pool's copy, when the pools' copies differ) and
   * answers the hash a task or actor must name. It goes with the task's urgency; either way it
   * leaves ahead of the task (the socket keeps the order of what is queued).
   */
  ensureCode(code: ShippedCode, urgent = false): string {
    const own = code.byPool?.[this.pool];
    const hash = own?.hash ?? code.hash;
    if (!this.sentCode.has(hash)) {
      this.sentCode.add(hash);
      this.send({ type: 'code', hash, kind: code.kind, source: own?.source ?? code.source }, urgent);
    }
    return hash;
  }

  /** Queues a message; everything queued in one tick leaves as one frame; `urgent` ones do not wait for a deferred flush (framed-socket.ts). */
  send(message: CoordinatorMessage, urgent = false): void {
    if (this.state === 'closed') return;
    this.socket.send(message, urgent);
  }

  /** Handles frames that arrived together with the hello. */
  deliver(messages: readonly AgentMessage[]): void {
    for (const m of messages) {
      if (this.state === 'closed') return;
      this.events.message(this, m);
    }
  }

  close(code: number, reason: string): void {
    this.socket.close(code, reason);
  }

  /** Kills the connection without a closing handshake (used when a peer misbehaves). */
  terminate(reason: string): void {
    this.socket.terminate(reason);
  }

  private onClose(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearInterval(this.heartbeat);
    this.events.closed(this, reason);
  }
}
