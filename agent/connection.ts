import WebSocket from 'ws';
import type { AgentMessage, Hello } from '../protocol/agent-messages.js';
import type { CoordinatorMessage, Welcome } from '../protocol/coordinator-messages.js';
import type { decodeCoordinatorFrame } from '../protocol/codec.js';
import { FramedSocket } from '../protocol/framed-socket.js';
import { CloseCode, FINAL_CLOSE_CODES, wsMessageLimit } from '../protocol/version.js';
import type { AgentConfig } from './config.js';
import { CLIENT_SOCKET_OPTIONS } from '../protocol/client-socket.js';
import type { ThreadWrites } from './thread-writes.js';

export interface ConnectionHandlers {
  hello(): Hello;
  /** A hello has left (each connection's first frame): work that could wait for it may start. */
  helloSent(): void;
  /** True while tasks wait in this agent's queues (results are then sent in batches). */
  busy(): boolean;
  /** Messages after the welcome, in order. */
  messages(messages: CoordinatorMessage[]): void;
  /** `localAddress`: the interface this agent dialled out of (where the coordinator sees it). */
  connected(welcome: Welcome, localAddress: string | null): void;
  /** The link dropped; running work is void (the coordinator re-queues it elsewhere). */
  disconnected(): void;
  /** One message was too large for a frame and was not sent (e.g. a huge result). */
  oversize(message: AgentMessage, bytes: number): void;
  /** The agent must stop: shutdown, refused for good, or the coordinator gone past the grace period. */
  exit(code: number, reason: string): void;
}

const MAX_BACKOFF_MS = 5_000;

/**
 * The coordinator's frames are checked against zod schemas, and building them (zod, then every
 * message's schema) was the largest part of an agent's start. They load once the first hello has
 * left, its socket paused until then, so that overlaps the coordinator's answer instead of
 * delaying the hello (issue 16).
 */
let decode: typeof decodeCoordinatorFrame | null = null;
let loading: Promise<void> | null = null;

function loadDecoder(): Promise<void> {
  loading ??= import('../protocol/codec.js').then(
    (codec) => {
      decode = codec.decodeCoordinatorFrame;
    },
    (err: unknown) => {
      loading = null;
      throw err;
    },
  );
  return loading;
}

/**
 * The agent's side of the link: connect, hello, welcome, heartbeat watch, reconnect with backoff,
 * and give up once the coordinator has been silent longer than the grace period.
 * States: connecting → awaiting-welcome → ready → (closed → connecting …) → exited.
 */
export class CoordinatorConnection {
  private socket: FramedSocket<CoordinatorMessage, AgentMessage> | null = null;
  private ready = false;
  private lastContact = Date.now();
  private heartbeatMs = 5_000;
  private attempt = 0;
  private localAddress: string | null = null;
  private stopped = false;
  private ws: WebSocket | null = null;
  private readonly watchdog: NodeJS.Timeout;

  constructor(
    private readonly config: AgentConfig,
    private readonly handlers: ConnectionHandlers,
    /** Worker threads write results to the socket too (thread-writes.ts). */
    private readonly threadWrites: ThreadWrites | null = null,
  ) {
    this.watchdog = setInterval(() => this.watch(), 1_000);
    this.watchdog.unref();
  }

  start(): void {
    this.connect();
  }

  /** Queues a message for the next frame; dropped when not connected (its work is void then). */
  send(message: AgentMessage, urgent = false): void {
    if (!this.ready) return;
    this.socket?.send(message, urgent);
  }

  /** A thread's frame was cut short (thread-writes.ts): the stream is corrupt, so the link is dropped. */
  checkThreadWrites(): void {
    if (this.threadWrites?.broken) this.socket?.terminate('a worker thread could not complete a result frame');
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.watchdog);
    this.threadWrites?.detach();
    // Detach first: the close that follows is ours, not a lost link to recover from.
    const socket = this.socket;
    this.socket = null;
    this.ready = false;
    socket?.close(CloseCode.normal, 'agent exiting');
  }

  private connect(): void {
    if (this.stopped) return;
    const ws = new WebSocket(this.config.url, {
      ...CLIENT_SOCKET_OPTIONS,
      maxPayload: wsMessageLimit(this.config.maxFrameBytes),
      handshakeTimeout: 10_000,
      // With a pinned fingerprint the chain need not verify; the pin is checked on 'upgrade'.
      rejectUnauthorized: this.config.certFingerprint === null,
    });
    const socket = new FramedSocket<CoordinatorMessage, AgentMessage>(
      ws,
      {
        // Frames arrive only after `open` has loaded it (below): the socket is paused until then.
        decode: (data, segments) => decode!(data, this.config.maxFrameBytes, segments),
        maxFrameBytes: this.config.maxFrameBytes,
        // One frame per turn of the event loop carries every result that finished in it.
        // With work still queued here more results follow shortly: send them together.
        deferFlush: () => this.handlers.busy(),
        ...(this.threadWrites ? { writeGuard: this.threadWrites } : {}),
      },
      {
        messages: (messages) => this.receive(socket, messages),
        invalid: (err) => process.stderr.write(`clustrix agent: ${err.message}\n`),
        oversize: (message, bytes) => this.handlers.oversize(message, bytes),
        closed: ({ code, reason }) => this.onClose(socket, code, reason),
      },
    );
    this.socket = socket;
    this.ws = ws;
    ws.on('upgrade', (res) => {
      this.localAddress = res.socket.localAddress ?? null;
      if (this.config.certFingerprint === null) return;
      const socket = res.socket as import('node:tls').TLSSocket;
      const seen = socket.getPeerCertificate?.().fingerprint256;
      if (!seen || normalizeFingerprint(seen) !== normalizeFingerprint(this.config.certFingerprint)) {
        ws.terminate();
        this.handlers.exit(2, `the coordinator's certificate fingerprint ${seen ?? '(none)'} does not match the pinned CLUSTRIX_CERT_FINGERPRINT`);
      }
    });
    ws.on('open', () => {
      this.lastContact = Date.now();
      socket.send(this.handlers.hello());
      if (decode !== null) {
        this.handlers.helloSent();
        return;
      }
      socket.flush(); // the hello leaves before the schemas are built
      this.handlers.helloSent();
      ws.pause();
      loadDecoder().then(
        () => ws.resume(),
        (err: unknown) => {
          process.stderr.write(`clustrix agent: cannot load the protocol schemas: ${(err as Error).message}\n`);
          ws.terminate();
        },
      );
    });
  }

  private receive(socket: FramedSocket<CoordinatorMessage, AgentMessage>, messages: CoordinatorMessage[]): void {
    this.lastContact = Date.now();
    if (!this.ready) {
      const first = messages[0];
      if (first?.type !== 'welcome') {
        socket.close(CloseCode.protocolError, 'expected welcome');
        return;
      }
      this.ready = true;
      this.attempt = 0;
      // Threads write results to this connection only once it is ready (never a hello's place).
      this.threadWrites?.attach((this.ws as unknown as { _socket?: unknown } | null)?._socket);
      this.heartbeatMs = first.heartbeatMs;
      this.handlers.connected(first, this.localAddress);
      messages = messages.slice(1);
      if (messages.length === 0) return;
    }
    this.handlers.messages(messages);
  }

  private onClose(socket: FramedSocket<CoordinatorMessage, AgentMessage>, code: number, reason: string): void {
    if (socket !== this.socket) return;
    const wasReady = this.ready;
    this.ready = false;
    this.threadWrites?.detach();
    this.socket = null;
    if (wasReady) this.handlers.disconnected();
    if (this.stopped) return;
    if (FINAL_CLOSE_CODES.has(code)) {
      this.handlers.exit(code === CloseCode.shutdown ? 0 : 2, `the coordinator closed the connection (${code}${reason ? `: ${reason}` : ''})`);
      return;
    }
    const delay = Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
    setTimeout(() => this.connect(), delay);
  }

  private watch(): void {
    const silent = Date.now() - this.lastContact;
    if (silent > this.config.graceMs) {
      this.stopped = true;
      this.socket?.terminate('coordinator unreachable');
      this.handlers.exit(1, `the coordinator at ${this.config.url} has been unreachable for ${Math.round(silent / 1000)} s (grace ${this.config.graceMs / 1000} s)`);
      return;
    }
    // A half-open TCP connection never closes by itself: missing pings are the only sign.
    if (this.ready && silent > 3 * this.heartbeatMs) this.socket?.terminate('no heartbeat from the coordinator');
  }
}

function normalizeFingerprint(fp: string): string {
  return fp.replace(/^sha256:/i, '').replace(/:/g, '').toLowerCase();
}
