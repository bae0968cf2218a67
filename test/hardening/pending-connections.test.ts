// Finding 10.2: raw TCP connections that never finished the HTTP upgrade were never closed (200
// such sockets were still open after 75 s), so anyone could exhaust the coordinator's file
// descriptors. Now every connection gets the handshake deadline, and unauthenticated connections
// are capped in all and per remote address.
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { WsEndpoint } from '../../coordinator/engine/endpoint.js';
import { coordinatorUrl } from '../helpers/processes.js';

const endpoints: WsEndpoint[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(endpoints.splice(0).map((e) => e.close(0)));
});

async function endpoint(options: Partial<ConstructorParameters<typeof WsEndpoint>[0]> = {}): Promise<{ e: WsEndpoint; port: number }> {
  const e = new WsEndpoint({ tls: null, maxFrameBytes: 1 << 20, handshakeTimeoutMs: 300, ...options }, () => undefined);
  endpoints.push(e);
  return { e, port: (await e.listen('127.0.0.1', 0)).port };
}

/** Opens a raw TCP socket, sends `bytes` (if any), and resolves when the server has closed it. */
function rawSocket(port: number, bytes: string): { closed: Promise<number>; socket: Socket } {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  socket.on('error', () => undefined);
  const opened = Date.now();
  if (bytes) socket.write(bytes);
  return { socket, closed: new Promise((resolve) => socket.once('close', () => resolve(Date.now() - opened))) };
}

describe('connections that never authenticate', () => {
  it.each([
    ['silent', ''],
    ['one byte', 'G'],
    ['unfinished headers', 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n'],
  ])('are closed by the handshake deadline: %s', async (_, bytes) => {
    const { port } = await endpoint();
    const many = Array.from({ length: 50 }, () => rawSocket(port, bytes));
    const times = await Promise.all(many.map((s) => s.closed));
    // The deadline is 300 ms; the timer may fire late on a loaded machine, never early.
    expect(Math.min(...times)).toBeGreaterThanOrEqual(250);
    expect(Math.max(...times)).toBeLessThan(5_000);
  });

  it('past the cap per remote address are dropped at once', async () => {
    const { e, port } = await endpoint({ handshakeTimeoutMs: 60_000, maxPendingPerAddress: 5, maxPending: 100 });
    const first = Array.from({ length: 5 }, () => rawSocket(port, ''));
    await waitFor(() => e.pendingCount === 5);
    const extra = rawSocket(port, '');
    expect(await extra.closed).toBeLessThan(5_000);
    expect(e.pendingCount).toBe(5);
    for (const s of first) s.socket.destroy();
    await waitFor(() => e.pendingCount === 0);
  });

  it('past the total cap are dropped at once', async () => {
    const { e, port } = await endpoint({ handshakeTimeoutMs: 60_000, maxPendingPerAddress: 100, maxPending: 4 });
    for (let i = 0; i < 4; i++) rawSocket(port, '');
    await waitFor(() => e.pendingCount === 4);
    expect(await rawSocket(port, '').closed).toBeLessThan(5_000);
  });
});

describe("the coordinator's agent port", () => {
  it('closes raw TCP connections that never upgrade within its 5 s handshake deadline, and keeps serving', async () => {
    const cluster = await Cluster.start({ agents: 1, slots: 1 });
    try {
      const port = Number(new URL(await coordinatorUrl(cluster)).port);
      const idle = [...Array.from({ length: 20 }, () => rawSocket(port, '')), ...Array.from({ length: 20 }, () => rawSocket(port, 'GET / HTTP/1.1\r\n'))];
      const times = await Promise.all(idle.map((s) => s.closed));
      expect(Math.max(...times)).toBeLessThan(8_000);
      expect(await cluster.run((x: number) => x + 1, 1)).toBe(2);
    } finally {
      await cluster.close();
    }
  });
});

/** Polls a cheap in-process counter (no I/O to wait on: the endpoint counts as sockets come and go). */
async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setImmediate(resolve));
  }
}
