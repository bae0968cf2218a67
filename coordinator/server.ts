import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Hello } from '../protocol/agent-messages.js';
import { decodeAgentFrame, encodeFrame } from '../protocol/codec.js';
import { ProtocolError } from '../protocol/errors.js';
import { CloseCode, PROTOCOL_VERSION } from '../protocol/version.js';
import type { Logger } from './logger.js';
import { showOnly } from './show-only.js';

export interface AgentServerOptions {
  host: string;
  port: number;
  token: string;
  maxFrameBytes: number;
  heartbeatMs: number;
  /** An unauthenticated socket is closed after this long. */
  authTimeoutMs: number;
  /** PEM certificate and key: serve wss:// instead of ws://. */
  tls: { cert: string; key: string } | null;
}

/** What the server hands over once an agent proved it holds the token. */
export interface AcceptedAgent {
  ws: WebSocket;
  hello: Hello;
  /** Messages that came in the hello's frame, after it. */
  rest: ReturnType<typeof decodeAgentFrame>;
}

/**
 * The WebSocket server agents dial. It owns the handshake: the first frame must be a hello of this
 * protocol version carrying the cluster's token; anything else closes the socket with a code that
 * says why. Accepted agents go to `onAgent`, which replies with the welcome.
 */
export class AgentServer {
  static {
    showOnly(this.prototype, 'AgentServer', (s) => ({ address: s.http.address() ?? null }));
  }

  private readonly http: HttpServer;
  private readonly wss: WebSocketServer;
  private readonly tokenDigest: Buffer;
  private readonly pending = new Set<WebSocket>();

  constructor(
    private readonly options: AgentServerOptions,
    private readonly onAgent: (agent: AcceptedAgent) => void,
    private readonly log: Logger,
  ) {
    this.tokenDigest = digest(options.token);
    this.http = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }) : createHttpServer();
    this.http.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('clustrix agents connect here over WebSocket\n');
    });
    this.wss = new WebSocketServer({ server: this.http, maxPayload: options.maxFrameBytes, perMessageDeflate: false });
    this.wss.on('connection', (ws, req) => this.handshake(ws, req.socket.remoteAddress ?? '?'));
  }

  async listen(): Promise<{ port: number; host: string }> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port, this.options.host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    const address = this.http.address() as AddressInfo;
    return { port: address.port, host: address.address };
  }

  async close(): Promise<void> {
    for (const ws of this.pending) ws.terminate();
    for (const ws of this.wss.clients) ws.terminate();
    // With an external HTTP server, wss.close() only stops accepting; the HTTP server is ours to close.
    this.wss.close();
    await new Promise<void>((resolve) => {
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  private handshake(ws: WebSocket, peer: string): void {
    this.pending.add(ws);
    const refuse = (code: number, reason: string): void => {
      this.pending.delete(ws);
      clearTimeout(timer);
      this.log.warn(`refused an agent connection from ${peer}: ${reason}`);
      ws.close(code, reason.slice(0, 120));
      // A peer that ignores the close handshake is cut off.
      setTimeout(() => ws.terminate(), 1_000).unref();
    };
    const timer = setTimeout(() => refuse(CloseCode.authTimeout, `no hello within ${this.options.authTimeoutMs} ms`), this.options.authTimeoutMs);
    timer.unref();
    ws.on('error', () => undefined);
    ws.on('close', () => {
      this.pending.delete(ws);
      clearTimeout(timer);
    });
    ws.once('message', (data: Buffer, isBinary: boolean) => {
      if (!this.pending.has(ws)) return;
      let messages;
      try {
        if (!isBinary) throw new ProtocolError('a text frame arrived; the protocol is binary msgpack', CloseCode.protocolError);
        messages = decodeAgentFrame(data, this.options.maxFrameBytes);
      } catch (err) {
        const pe = err instanceof ProtocolError ? err : new ProtocolError(String(err), CloseCode.protocolError);
        refuse(pe.closeCode, pe.message);
        return;
      }
      const [hello, ...rest] = messages;
      if (hello?.type !== 'hello') {
        refuse(CloseCode.protocolError, `the first message must be a hello, got '${hello?.type}'`);
        return;
      }
      if (!timingSafeEqual(digest(hello.token), this.tokenDigest)) {
        refuse(CloseCode.authFailed, 'wrong token');
        return;
      }
      this.pending.delete(ws);
      clearTimeout(timer);
      ws.removeAllListeners('close');
      this.onAgent({ ws, hello, rest });
    });
  }
}

/** The welcome frame for an accepted agent. */
export function welcomeFrame(agentId: string, heartbeatMs: number): Buffer {
  return encodeFrame([{ type: 'welcome', protocol: PROTOCOL_VERSION, agentId, heartbeatMs }]);
}

// Digests have equal length whatever the inputs, as timingSafeEqual requires.
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
