import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { closeSocket } from '../../protocol/close.js';
import { FramedSocket } from '../../protocol/framed-socket.js';
import { SocketBytes } from './socket-bytes.js';
import { decodePeerFrame, type PeerMessage, type PeerReply } from '../../protocol/peer-messages.js';
import { CloseCode, PROTOCOL_VERSION } from '../../protocol/version.js';

/** A peer must say hello with the token this soon. */
const HELLO_TIMEOUT_MS = 5_000;
/** Peers only ask (hello, fetch): their frames are small. */
const PEER_REQUEST_BYTES = 1024 * 1024;

/**
 * Serves this agent's stored values to the cluster's other agents. Listens where the coordinator
 * sees this agent (the interface it dialled out of), on any free port; a peer must present the
 * cluster's token first. Values are read from `lookup` (the object store) and sent in one frame.
 */
export class PeerServer {
  private readonly wss: WebSocketServer;
  private readonly digest: Buffer;
  /** Bytes of frames with the peers that fetched from this agent. */
  readonly bytes = new SocketBytes();

  private constructor(
    wss: WebSocketServer,
    token: string,
    private readonly lookup: (objectId: string) => Uint8Array | undefined,
    private readonly maxFrameBytes: number,
  ) {
    this.wss = wss;
    this.digest = sha256(token);
    wss.on('connection', (ws) => this.serve(ws));
    wss.on('error', () => undefined);
  }

  static async listen(host: string, token: string, lookup: (objectId: string) => Uint8Array | undefined, maxFrameBytes: number): Promise<PeerServer> {
    const wss = new WebSocketServer({ host, port: 0, maxPayload: PEER_REQUEST_BYTES, perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    return new PeerServer(wss, token, lookup, maxFrameBytes);
  }

  /** `host:port` peers dial. */
  get address(): string {
    const a = this.wss.address() as AddressInfo;
    return a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
  }

  close(): void {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
  }

  private serve(ws: import('ws').WebSocket): void {
    let authed = false;
    const deadline = setTimeout(() => closeSocket(ws, CloseCode.authTimeout, 'no peer-hello in time'), HELLO_TIMEOUT_MS);
    deadline.unref();
    const socket: FramedSocket<PeerMessage, PeerReply> = new FramedSocket(
      ws,
      { decode: (d, s) => decodePeerFrame(d, PEER_REQUEST_BYTES, s), maxFrameBytes: this.maxFrameBytes, maxInboundFrameBytes: PEER_REQUEST_BYTES },
      {
        messages: (messages) => {
          for (const m of messages) {
            if (socket.closed) return;
            if (!authed) {
              if (m.type !== 'peer-hello' || !timingSafeEqual(sha256(m.token), this.digest)) {
                socket.close(CloseCode.authFailed, 'wrong token');
                return;
              }
              authed = true;
              clearTimeout(deadline);
              socket.send({ type: 'peer-welcome', protocol: PROTOCOL_VERSION });
              continue;
            }
            if (m.type === 'peer-hello') {
              socket.close(CloseCode.protocolError, 'a second peer-hello');
              return;
            }
            const bytes = this.lookup(m.objectId);
            socket.send(bytes ? { type: 'peer-data', id: m.id, objectId: m.objectId, bytes } : { type: 'peer-missing', id: m.id, objectId: m.objectId, reason: 'not held by this agent' });
          }
        },
        oversize: (m) => {
          if (m.type === 'peer-data') socket.send({ type: 'peer-missing', id: m.id, objectId: m.objectId, reason: 'larger than a frame may carry' });
        },
        closed: () => {
          clearTimeout(deadline);
          this.bytes.remove(socket);
        },
      },
    );
    this.bytes.add(socket);
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
