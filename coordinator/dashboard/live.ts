import type { WebSocket } from 'ws';
import { decodeFrame } from '../../protocol/codec.js';
import { DashboardClientMessage, type DashboardServerMessage, type Snapshot } from '../../protocol/dashboard-messages.js';
import { FramedSocket } from '../../protocol/framed-socket.js';
import type { LogEntry } from '../../protocol/rows.js';
import { CloseCode } from '../../protocol/version.js';
import type { Logger } from '../util/logger.js';

/** What a live view reads and does, provided by the engine (live-source.ts). */
export interface LiveSource {
  snapshot(): Omit<Snapshot, 'type' | 'at'>;
  /** Cancels a call of one client; how many tasks were cancelled. */
  cancelCall(client: string, callId: string): number;
  killActor(actorId: string): Promise<void>;
  scale(agents: number, pool: string | null): Promise<void>;
  /** Hears every log line of every agent until closed. */
  followLogs(push: (entry: LogEntry) => void): { close(): void };
}

/** Largest frame a browser may send (actions are tiny). */
export const LIVE_MAX_FRAME_BYTES = 64 * 1024;
/** Log lines go out in batches this often; at most MAX_LOG_BATCH per batch (a flood is cut, said so). */
const LOG_FLUSH_MS = 200;
/** The view is compared with the last one sent every this many flushes (sent only when it changed). */
const SNAPSHOT_EVERY_TICKS = 3;
const MAX_LOG_BATCH = 1000;

const NO_HANDSHAKE = { types: new Set<string>(), hint: 'reload the dashboard page (it is served by the same clustrix)' };

/**
 * One browser's live view: pushes a snapshot of the pool whenever it changed and the log tail as it
 * comes (no polling by the page), and runs the actions it sends (cancel a call, kill an actor,
 * scale the pool), answering each once. A bad frame closes this socket only.
 */
export class LiveSession {
  private readonly socket: FramedSocket<DashboardClientMessage, DashboardServerMessage>;
  private readonly timer: NodeJS.Timeout;
  private readonly logs: { close(): void };
  private lastSnapshot = '';
  private pendingLogs: LogEntry[] = [];
  private droppedLogs = 0;
  private ticks = 0;

  constructor(
    ws: WebSocket,
    private readonly source: LiveSource,
    private readonly log: Logger,
  ) {
    this.socket = new FramedSocket<DashboardClientMessage, DashboardServerMessage>(
      ws,
      { decode: (data) => decodeFrame(data, LIVE_MAX_FRAME_BYTES, DashboardClientMessage, 'dashboard', NO_HANDSHAKE), maxFrameBytes: 64 * 1024 * 1024 },
      {
        messages: (messages) => {
          for (const m of messages) this.handle(m);
        },
        invalid: (err) => this.log.warn(`dashboard: ${err.message}`),
        closed: () => this.stop(),
      },
    );
    this.logs = source.followLogs((entry) => {
      if (this.pendingLogs.length < MAX_LOG_BATCH) this.pendingLogs.push(entry);
      else this.droppedLogs++;
    });
    this.timer = setInterval(() => this.tick(), LOG_FLUSH_MS);
    this.timer.unref();
    this.pushSnapshot();
  }

  private tick(): void {
    this.flushLogs();
    if (++this.ticks % SNAPSHOT_EVERY_TICKS === 0) this.pushSnapshot();
  }

  private pushSnapshot(): void {
    const view = this.source.snapshot();
    const text = JSON.stringify(view);
    if (text === this.lastSnapshot) return;
    this.lastSnapshot = text;
    this.socket.send({ type: 'snapshot', at: Date.now(), ...view });
  }

  private flushLogs(): void {
    if (this.pendingLogs.length === 0) return;
    const entries = this.pendingLogs;
    this.pendingLogs = [];
    if (this.droppedLogs > 0) {
      entries.push({ agentId: '-', taskId: null, stream: 'stderr', text: `(${this.droppedLogs} lines dropped: more than ${(MAX_LOG_BATCH * 1000) / LOG_FLUSH_MS} a second)` });
      this.droppedLogs = 0;
    }
    this.socket.send({ type: 'logs', entries: entries.slice(-MAX_LOG_BATCH) });
  }

  private handle(m: DashboardClientMessage): void {
    const answer = (run: () => Promise<string> | string): void => {
      Promise.resolve()
        .then(run)
        .then(
          (message) => this.socket.send({ type: 'action-result', id: m.id, ok: true, message }),
          (err: unknown) => this.socket.send({ type: 'action-result', id: m.id, ok: false, message: err instanceof Error ? err.message : String(err) }),
        )
        .finally(() => this.pushSnapshot());
    };
    switch (m.type) {
      case 'cancel-call':
        answer(() => `${this.source.cancelCall(m.client, m.callId)} tasks of call ${m.callId} cancelled`);
        return;
      case 'kill-actor':
        answer(async () => {
          await this.source.killActor(m.actorId);
          return `actor ${m.actorId} killed`;
        });
        return;
      case 'scale':
        answer(async () => {
          await this.source.scale(m.agents, m.pool ?? null);
          return `the pool has ${m.agents} agents`;
        });
        return;
      default: {
        const unreachable: never = m;
        this.socket.close(CloseCode.protocolError, `unhandled dashboard message ${JSON.stringify(unreachable).slice(0, 64)}`);
      }
    }
  }

  private stop(): void {
    clearInterval(this.timer);
    this.logs.close();
  }
}
