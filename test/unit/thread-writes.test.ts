// A worker thread's own write of a result frame (agent/thread-writes.ts), here from the main
// thread against a real ws server: the server reads exactly the frame the main thread would have
// sent, and nothing is written once the socket is closing, queued, or not plain TCP.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { packDoneFrame } from '../../protocol/done-frames.js';
import { CLIENT_SOCKET_OPTIONS } from '../../protocol/client-socket.js';
import { MAX_THREAD_FRAME_BYTES, ThreadWriter, ThreadWrites } from '../../agent/thread-writes.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function pair(): Promise<{ client: WebSocket; received: Buffer[]; next: () => Promise<Buffer> }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await once(wss, 'listening');
  closers.push(() => new Promise((resolve) => wss.close(() => resolve())));
  const received: Buffer[] = [];
  const waiters: ((b: Buffer) => void)[] = [];
  wss.on('connection', (ws) => {
    ws.on('message', (data: Buffer) => {
      const waiter = waiters.shift();
      if (waiter) waiter(data);
      else received.push(data);
    });
  });
  const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, CLIENT_SOCKET_OPTIONS);
  await once(client, 'open');
  closers.push(async () => {
    if (client.readyState === WebSocket.CLOSED) return;
    client.terminate();
    await once(client, 'close');
  });
  const next = (): Promise<Buffer> => {
    const got = received.shift();
    return got ? Promise.resolve(got) : new Promise((resolve) => waiters.push(resolve));
  };
  return { client, received, next };
}

const socketOf = (ws: WebSocket): unknown => (ws as unknown as { _socket: unknown })._socket;

describe('thread writes', () => {
  it('writes the done frame the main thread would send, short and 16-bit lengths alike, in order with the main thread’s own', async () => {
    const { client, next } = await pair();
    const writes = new ThreadWrites(true);
    writes.attach(socketOf(client));
    const writer = new ThreadWriter(writes.shared);
    const small = new Uint8Array([1, 2, 3]);
    const large = new Uint8Array(MAX_THREAD_FRAME_BYTES - 64).fill(7); // over 125 bytes: a 16-bit length
    expect(writer.done('t-1', small, 0.5)).toBe(true);
    writes.write(() => client.send(Buffer.from('main')));
    expect(writer.done('t-2', large, 12)).toBe(true);
    expect(Buffer.compare(await next(), packDoneFrame([{ type: 'done', id: 't-1', value: small, runMs: 0.5 }])!)).toBe(0);
    expect((await next()).toString()).toBe('main');
    expect(Buffer.compare(await next(), packDoneFrame([{ type: 'done', id: 't-2', value: large, runMs: 12 }])!)).toBe(0);
    expect(writes.broken).toBe(false);
  });

  it('leaves to the main thread a value too large, a socket it has not given or has taken back, and one that is closing', async () => {
    const { client, next } = await pair();
    const writes = new ThreadWrites(true);
    const writer = new ThreadWriter(writes.shared);
    expect(writer.done('t-1', new Uint8Array(1), 1)).toBe(false); // not attached yet
    writes.attach(socketOf(client));
    expect(writer.done('t-2', new Uint8Array(MAX_THREAD_FRAME_BYTES + 1), 1)).toBe(false);
    writes.detach();
    expect(writer.done('t-3', new Uint8Array(1), 1)).toBe(false);
    writes.attach(socketOf(client));
    expect(writer.done('t-4', new Uint8Array(1), 1)).toBe(true);
    expect(Buffer.compare(await next(), packDoneFrame([{ type: 'done', id: 't-4', value: new Uint8Array(1), runMs: 1 }])!)).toBe(0);
    // The handle's close takes the descriptor from the threads before it is closed (and maybe reused).
    client.terminate();
    expect(writer.done('t-5', new Uint8Array(1), 1)).toBe(false);
  });

  it('never overtakes what the main thread has queued: the thread leaves its result to it until that is written', async () => {
    const { client, next } = await pair();
    const writes = new ThreadWrites(true);
    writes.attach(socketOf(client));
    const writer = new ThreadWriter(writes.shared);
    writes.queued();
    expect(writer.done('t-1', new Uint8Array(1), 1)).toBe(false);
    writes.write(() => client.send(Buffer.from('main')));
    expect(writer.done('t-2', new Uint8Array(1), 1)).toBe(true);
    expect((await next()).toString()).toBe('main');
    expect(Buffer.compare(await next(), packDoneFrame([{ type: 'done', id: 't-2', value: new Uint8Array(1), runMs: 1 }])!)).toBe(0);
  });

  it('takes the descriptor back when the socket closes inside the main thread\'s own write (no second lock)', async () => {
    const { client } = await pair();
    const writes = new ThreadWrites(true);
    writes.attach(socketOf(client));
    writes.write(() => client.terminate());
    expect(new ThreadWriter(writes.shared).done('t-1', new Uint8Array(1), 1)).toBe(false);
  });

  it('gives threads nothing when switched off', async () => {
    const { client } = await pair();
    const writes = new ThreadWrites(false);
    writes.attach(socketOf(client));
    expect(new ThreadWriter(writes.shared).done('t-1', new Uint8Array(1), 1)).toBe(false);
  });
});
