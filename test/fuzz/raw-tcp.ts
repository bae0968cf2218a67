/**
 * TCP peers that never complete the WebSocket upgrade: silence, half a request, bytes that are not
 * HTTP, upgrades ws must refuse. What the port answers is HTTP (a status line) or nothing at all:
 * a connection that never finishes its request gets no answer within the test's window, and is cut
 * at the port's handshake deadline (5 s; test/hardening/pending-connections.test.ts checks that).
 */
import { connect } from 'node:net';

export interface RawTcpCase {
  name: string;
  /** What to write; null writes nothing. */
  bytes: string | Buffer | null;
  /** 'HTTP <status>', or 'no response' within the window. */
  expect: string;
}

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const upgrade = (lines: string[]): string => [...lines, '', ''].join('\r\n');

export const RAW_TCP_CASES: readonly RawTcpCase[] = [
  { name: 'connects and sends nothing', bytes: null, expect: 'no response' },
  { name: 'half a request line', bytes: 'GET / HT', expect: 'no response' },
  { name: 'headers that never end', bytes: 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n', expect: 'no response' },
  { name: 'bytes that are not HTTP', bytes: Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00]), Buffer.from('\r\n\r\n')]), expect: 'HTTP 400' },
  { name: 'a GET without Upgrade', bytes: upgrade(['GET / HTTP/1.1', 'Host: x']), expect: 'HTTP 426' },
  { name: 'an upgrade with Sec-WebSocket-Version 12', bytes: upgrade(['GET / HTTP/1.1', 'Host: x', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 12']), expect: 'HTTP 400' },
  { name: 'an upgrade without Sec-WebSocket-Key', bytes: upgrade(['GET / HTTP/1.1', 'Host: x', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13']), expect: 'HTTP 400' },
  { name: 'an upgrade by POST', bytes: upgrade(['POST / HTTP/1.1', 'Host: x', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', 'Content-Length: 0']), expect: 'HTTP 405' },
  { name: 'an upgrade to another protocol', bytes: upgrade(['GET / HTTP/1.1', 'Host: x', 'Upgrade: h2c', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13']), expect: 'HTTP 400' },
  // Accepted, then gone before any frame: the port must forget the connection without a fuss.
  { name: 'a valid upgrade, then the socket vanishes', bytes: upgrade(['GET / HTTP/1.1', 'Host: x', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13']), expect: 'HTTP 101' },
];

/** Writes the case's bytes and reports the status line of the answer, or 'no response' after `ms`. */
export function rawTcp(url: string, c: RawTcpCase, ms: number): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname.replace(/^\[|\]$/g, ''));
    let answer = '';
    const finish = (result: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(answer ? `unparsed answer ${JSON.stringify(answer.slice(0, 40))}` : 'no response'), ms);
    socket.on('error', () => undefined);
    socket.on('connect', () => {
      if (c.bytes !== null) socket.write(c.bytes);
    });
    socket.on('data', (d: Buffer) => {
      answer += d.toString('latin1');
      const status = /^HTTP\/1\.1 (\d{3})/.exec(answer);
      if (status) finish(`HTTP ${status[1]}`);
    });
    socket.on('close', () => finish(answer ? `closed after ${JSON.stringify(answer.slice(0, 40))}` : 'closed without a response'));
  });
}

/** Opens `n` TCP connections that say nothing; returns a function that closes them. */
export async function silentSockets(url: string, n: number): Promise<() => void> {
  const { hostname, port } = new URL(url);
  const sockets = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof connect>>((resolve, reject) => {
          const s = connect(Number(port), hostname.replace(/^\[|\]$/g, ''));
          s.on('error', () => undefined);
          s.once('connect', () => resolve(s));
          s.once('error', reject);
        }),
    ),
  );
  return () => {
    for (const s of sockets) s.destroy();
  };
}
