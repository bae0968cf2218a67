import { createHash, timingSafeEqual } from 'node:crypto';
import type { AgentMessage, Hello } from '../../protocol/agent-messages.js';
import { decodeAgentFrame } from '../../protocol/codec.js';
import type { CoordinatorMessage } from '../../protocol/coordinator-messages.js';
import { FramedSocket } from '../../protocol/framed-socket.js';
import { CloseCode, PROTOCOL_VERSION } from '../../protocol/version.js';
import { WsEndpoint } from './endpoint.js';
import type { Logger } from '../util/logger.js';
import { showOnly } from '../util/show-only.js';

export interface AgentServerOptions {
  token: string;
  maxFrameBytes: number;
  heartbeatMs: number;
  /** An unauthenticated connection (TCP or WebSocket) is closed after this long. */
  authTimeoutMs: number;
  /** PEM certificate and key: serve wss:// instead of ws://. */
  tls: { cert: string; key: string } | null;
}

/** The framed connection of one agent. */
export type AgentSocket = FramedSocket<AgentMessage, CoordinatorMessage>;

/** What the server hands over once an agent proved it holds the token. */
export interface AcceptedAgent {
  socket: AgentSocket;
  hello: Hello;
  /** Messages that came in the hello's frame, after it. */
  rest: AgentMessage[];
}

/**
 * The WebSocket server agents dial. It owns the handshake: the first frame must be a hello of this
 * protocol version carrying the cluster's token; anything else closes the socket with a code that
 * says why. Accepted agents go to `onAgent`, which replies with the welcome.
 */
export class AgentServer {
  static {
    showOnly(this.prototype, 'AgentServer', (s) => ({ pending: s.pendingCount }));
  }

  /** One per address listened on (several pools may dial in on different interfaces). */
  private readonly endpoints: WsEndpoint[] = [];
  /** Port by address listened on. */
  private readonly listening = new Map<string, Promise<{ port: number; host: string }>>();
  private readonly tokenDigest: Buffer;

  constructor(
    private readonly options: AgentServerOptions,
    private readonly onAgent: (agent: AcceptedAgent) => void,
    private readonly log: Logger,
  ) {
    this.tokenDigest = digest(options.token);
  }

  /** Connections not authenticated yet, on every address. */
  get pendingCount(): number {
    return this.endpoints.reduce((n, e) => n + e.pendingCount, 0);
  }

  /**
   * Listens on `host` (once per address: a second pool dialling the same address shares it; one
   * listening on every address covers the others).
   */
  listen(host: string, port: number): Promise<{ port: number; host: string }> {
    const known = this.listening.get(host) ?? this.listening.get('0.0.0.0') ?? this.listening.get('::');
    if (known) return known;
    const endpoint = this.endpoint();
    this.endpoints.push(endpoint);
    const listening = endpoint.listen(host, port);
    this.listening.set(host, listening);
    listening.catch(() => this.listening.delete(host));
    return listening;
  }

  async close(): Promise<void> {
    await Promise.all(this.endpoints.map((e) => e.close()));
  }

  private endpoint(): WsEndpoint {
    const options = this.options;
    return new WsEndpoint(
      { tls: options.tls, maxFrameBytes: options.maxFrameBytes, handshakeTimeoutMs: options.authTimeoutMs },
      ({ ws, remoteAddress, authenticated }) => {
        const socket: AgentSocket = new FramedSocket(ws, { decode: (d, s) => decodeAgentFrame(d, options.maxFrameBytes, s), maxFrameBytes: options.maxFrameBytes }, {
          messages: (messages) => this.handshake(socket, messages, remoteAddress, authenticated),
          invalid: (err) => this.log.warn(`refused an agent connection from ${remoteAddress}: ${err.message}`),
          closed: () => undefined,
        });
      },
    );
  }

  private handshake(socket: AgentSocket, messages: AgentMessage[], peer: string, authenticated: () => void): void {
    const refuse = (code: number, reason: string): void => {
      this.log.warn(`refused an agent connection from ${peer}: ${reason}`);
      socket.close(code, reason);
    };
    const [hello, ...rest] = messages;
    if (hello?.type !== 'hello') {
      refuse(CloseCode.protocolError, `the first message must be a hello, got '${hello?.type}'`);
      return;
    }
    if (!timingSafeEqual(digest(hello.token), this.tokenDigest)) {
      refuse(CloseCode.authFailed, 'wrong token');
      return;
    }
    authenticated();
    // Until the new owner takes over, nothing else may arrive unseen.
    socket.setHandlers({ messages: () => undefined, closed: () => undefined });
    this.onAgent({ socket, hello, rest });
  }
}

/** The welcome for an accepted agent. */
export function welcomeMessage(agentId: string, heartbeatMs: number, store: { objectStoreBytes: number; objectSpillBytes: number }): CoordinatorMessage {
  return { type: 'welcome', protocol: PROTOCOL_VERSION, agentId, heartbeatMs, objectStoreBytes: store.objectStoreBytes, objectSpillBytes: store.objectSpillBytes };
}

// Digests have equal length whatever the inputs, as timingSafeEqual requires.
function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
