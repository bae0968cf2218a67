import WebSocket from 'ws';
import { FramedSocket } from '../../protocol/framed-socket.js';
import { SocketBytes } from './socket-bytes.js';
import { decodePeerReplyFrame, type PeerMessage, type PeerReply } from '../../protocol/peer-messages.js';
import { CloseCode, PROTOCOL_VERSION, wsMessageLimit } from '../../protocol/version.js';
import { CLIENT_SOCKET_OPTIONS } from '../../protocol/client-socket.js';

/** How long a peer may take to answer the handshake. */
const CONNECT_TIMEOUT_MS = 5_000;

interface Peer {
  ready: Promise<FramedSocket<PeerReply, PeerMessage>>;
  waiting: Map<string, { resolve(bytes: Uint8Array): void; reject(err: Error): void }>;
}

/**
 * Fetches values from other agents (PeerServer), one connection per peer kept open for later
 * fetches. A peer that cannot be reached rejects: the caller then asks the coordinator to relay.
 */
export class PeerClient {
  private readonly peers = new Map<string, Peer>();
  /** Bytes of frames with the peers this agent fetched from. */
  readonly bytes = new SocketBytes();
  private next = 0;

  constructor(
    private readonly token: string,
    private readonly maxFrameBytes: number,
  ) {}

  async fetch(address: string, objectId: string): Promise<Uint8Array> {
    const peer = this.peerAt(address);
    const socket = await peer.ready;
    const id = `p${++this.next}`;
    return new Promise((resolve, reject) => {
      peer.waiting.set(id, { resolve, reject });
      socket.send({ type: 'peer-fetch', id, objectId });
    });
  }

  closeAll(): void {
    for (const peer of this.peers.values()) void peer.ready.then((s) => s.close(CloseCode.normal, 'agent exiting'), () => undefined);
    this.peers.clear();
  }

  private peerAt(address: string): Peer {
    const known = this.peers.get(address);
    if (known) return known;
    const waiting: Peer['waiting'] = new Map();
    const fail = (err: Error): void => {
      this.peers.delete(address);
      for (const w of waiting.values()) w.reject(err);
      waiting.clear();
    };
    const ready = new Promise<FramedSocket<PeerReply, PeerMessage>>((resolve, reject) => {
      const ws = new WebSocket(`ws://${address}`, { ...CLIENT_SOCKET_OPTIONS, maxPayload: wsMessageLimit(this.maxFrameBytes), handshakeTimeout: CONNECT_TIMEOUT_MS });
      let welcomed = false;
      const timer = setTimeout(() => socket.terminate(`peer ${address} did not answer in ${CONNECT_TIMEOUT_MS} ms`), CONNECT_TIMEOUT_MS);
      timer.unref();
      const socket: FramedSocket<PeerReply, PeerMessage> = new FramedSocket(ws, { decode: (d, s) => decodePeerReplyFrame(d, this.maxFrameBytes, s), maxFrameBytes: this.maxFrameBytes, spareSegments: true }, {
        messages: (messages) => {
          for (const m of messages) {
            switch (m.type) {
              case 'peer-welcome':
                welcomed = true;
                clearTimeout(timer);
                resolve(socket);
                break;
              case 'peer-data':
                waiting.get(m.id)?.resolve(m.bytes);
                waiting.delete(m.id);
                break;
              case 'peer-missing':
                waiting.get(m.id)?.reject(new Error(`agent ${address} does not hold ${m.objectId}: ${m.reason}`));
                waiting.delete(m.id);
                break;
            }
          }
        },
        closed: ({ code, reason }) => {
          clearTimeout(timer);
          this.bytes.remove(socket);
          const err = new Error(`the connection to agent ${address} closed (${code}${reason ? ` ${reason}` : ''})`);
          if (!welcomed) reject(err);
          fail(err);
        },
      });
      this.bytes.add(socket);
      ws.once('error', () => undefined);
      ws.once('open', () => socket.send({ type: 'peer-hello', protocol: PROTOCOL_VERSION, token: this.token }));
    });
    ready.catch(() => undefined);
    const peer = { ready, waiting };
    this.peers.set(address, peer);
    return peer;
  }
}
