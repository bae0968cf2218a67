import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { closeSocket } from '../../protocol/close.js';
import { CloseCode, wsMessageLimit } from '../../protocol/version.js';

export interface EndpointOptions {
  /** PEM certificate and key: serve wss:// instead of ws://. */
  tls: { cert: string; key: string } | null;
  maxFrameBytes: number;
  /**
   * A connection that has not authenticated this long after it was opened is cut: a raw TCP
   * socket that never finishes the HTTP upgrade as much as a WebSocket that sends no hello (closed
   * with 4004).
   */
  handshakeTimeoutMs: number;
  /** Most connections not yet authenticated, in all and from one remote address. */
  maxPending?: number;
  maxPendingPerAddress?: number;
  /** Answers plain HTTP requests (not upgrades). @default 426 with a line saying what this port is */
  request?: (req: IncomingMessage, res: ServerResponse) => void;
}

/** A WebSocket that has opened and must now prove who it is. */
export interface PendingConnection {
  ws: WebSocket;
  remoteAddress: string;
  /** The upgrade request (its headers: cookies, origin). */
  request: IncomingMessage;
  /** The peer authenticated: its deadline is lifted and it no longer counts against the caps. */
  authenticated(): void;
}

interface Tracked {
  address: string;
  timer: NodeJS.Timeout;
  /** Set once the upgrade is done: a late peer then hears why it is cut (4004). */
  ws: WebSocket | null;
}

/** Defaults generous enough for thousands of agents dialling in waves (they retry with backoff). */
const MAX_PENDING = 512;
const MAX_PENDING_PER_ADDRESS = 128;

/**
 * An HTTP(S) server that accepts WebSocket upgrades, shared by the agent port and the service's
 * client port. It guards the time before authentication: every TCP connection gets
 * `handshakeTimeoutMs` to upgrade and authenticate, and the number of unauthenticated connections
 * is capped in all and per remote address, so idle or half-open sockets cannot exhaust file
 * descriptors. Connections past a cap are dropped at once.
 */
export class WsEndpoint {
  private readonly http: HttpServer;
  private readonly wss: WebSocketServer;
  /** Unauthenticated connections, by `address:port` (the same for the raw and the TLS socket). */
  private readonly pending = new Map<string, Tracked>();
  private readonly perAddress = new Map<string, number>();
  private readonly maxPending: number;
  private readonly maxPendingPerAddress: number;

  constructor(
    private readonly options: EndpointOptions,
    private readonly onConnection: (connection: PendingConnection) => void,
  ) {
    this.maxPending = options.maxPending ?? MAX_PENDING;
    this.maxPendingPerAddress = options.maxPendingPerAddress ?? MAX_PENDING_PER_ADDRESS;
    this.http = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }) : createHttpServer();
    this.http.on('connection', (socket: Socket) => this.track(socket));
    this.http.on('request', options.request ?? ((_req, res) => res.writeHead(426, { 'content-type': 'text/plain' }).end('clustrix connects here over WebSocket\n')));
    // A request that does not parse: answer 400 as Node would, and drop that socket only.
    this.http.on('clientError', (_err: Error, socket: Duplex) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      socket.destroy();
    });
    this.http.on('tlsClientError', (_err: Error, socket: Duplex) => socket.destroy());
    this.wss = new WebSocketServer({ noServer: true, maxPayload: wsMessageLimit(options.maxFrameBytes), perMessageDeflate: false });
    this.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
  }

  async listen(host: string, port: number): Promise<{ port: number; host: string }> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const address = this.http.address() as AddressInfo;
    return { port: address.port, host: address.address };
  }

  /** Connections that have not authenticated yet. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Stops listening; connections still open get `graceMs` to finish their closing handshake. */
  async close(graceMs = 1_000): Promise<void> {
    const open = [...this.wss.clients];
    if (open.length > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.all(open.map((ws) => (ws.readyState === ws.CLOSED ? undefined : new Promise((resolve) => ws.once('close', resolve))))),
        new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
      ]);
      clearTimeout(timer);
    }
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
    for (const t of this.pending.values()) clearTimeout(t.timer);
    this.pending.clear();
    this.perAddress.clear();
  }

  private track(socket: Socket): void {
    const address = socket.remoteAddress ?? '?';
    const key = `${address}:${socket.remotePort ?? '?'}`;
    if (this.pending.size >= this.maxPending || (this.perAddress.get(address) ?? 0) >= this.maxPendingPerAddress) {
      socket.destroy();
      return;
    }
    const ms = this.options.handshakeTimeoutMs;
    const tracked: Tracked = { address, ws: null, timer: setTimeout(() => {
      if (tracked.ws) closeSocket(tracked.ws, CloseCode.authTimeout, `not authenticated within ${ms} ms`);
      else socket.destroy();
    }, ms) };
    tracked.timer.unref();
    this.pending.set(key, tracked);
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    socket.once('close', () => this.release(key));
  }

  private release(key: string): void {
    const t = this.pending.get(key);
    if (!t) return;
    clearTimeout(t.timer);
    this.pending.delete(key);
    const left = (this.perAddress.get(t.address) ?? 1) - 1;
    if (left <= 0) this.perAddress.delete(t.address);
    else this.perAddress.set(t.address, left);
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const raw = req.socket;
    const key = `${raw.remoteAddress ?? '?'}:${raw.remotePort ?? '?'}`;
    socket.on('error', () => socket.destroy());
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const tracked = this.pending.get(key);
      if (tracked) tracked.ws = ws;
      this.onConnection({ ws, remoteAddress: raw.remoteAddress ?? '?', request: req, authenticated: () => this.release(key) });
    });
  }
}
