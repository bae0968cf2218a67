// Finding 10.1: a frame whose decode error quotes multi-byte text made the close reason longer than
// the 123 bytes a close frame holds, and ws's close() threw a RangeError nobody caught: one
// unauthenticated frame killed the coordinator, the service, or the agent. Every close now goes
// through closeReason(), which cuts on a character boundary.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { Cluster } from 'clustrix';
import { CloseCode, encodeFrame } from 'clustrix/protocol';
import { closeReason, MAX_CLOSE_REASON_BYTES } from '../../protocol/close.js';
// The built service, as `clustrix up` runs it (it starts agents from dist/).
import { ClusterService } from '../../dist/coordinator/service/index.js';
import { agentBundle, coordinatorUrl } from '../helpers/processes.js';

const hostile = [{ type: '€'.repeat(64) }];

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

async function sendHostile(url: string): Promise<{ code: number; reason: string }> {
  const ws = new WebSocket(url);
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const closed = closeOf(ws);
  ws.send(encodeFrame(hostile as never));
  return closed;
}

describe('closeReason', () => {
  it.each([
    ['ascii', 'x'.repeat(500)],
    ['two-byte', 'é'.repeat(200)],
    ['three-byte', '€'.repeat(200)],
    ['four-byte', '😀'.repeat(100)],
    ['mixed', `a€😀é${'z€'.repeat(80)}`],
    ['lone surrogate', `${'\ud800'.repeat(100)}`],
  ])('cuts %s text to at most 123 UTF-8 bytes on a character boundary', (_, text) => {
    const cut = closeReason(text);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
    expect(Buffer.byteLength(cut)).toBeGreaterThan(MAX_CLOSE_REASON_BYTES - 4);
    // A prefix of the original (no half character at the end), unless the input was invalid UTF-16.
    if (!text.includes('\ud800')) expect(text.startsWith(cut)).toBe(true);
  });

  it('keeps a short reason as it is', () => {
    expect(closeReason('wrong token')).toBe('wrong token');
  });
});

describe('a multi-byte decode error before any hello', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start({ agents: 1, slots: 1 });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('closes that connection at the agent port with 4000, and the coordinator carries on', async () => {
    const { code, reason } = await sendHostile(await coordinatorUrl(cluster));
    expect(code).toBe(CloseCode.protocolError);
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
    expect(reason).toContain('€');
    expect(await cluster.run((x: number) => x + 1, 41)).toBe(42);
  });

  it("closes that connection at the service's client port with 4000, and the service carries on", async () => {
    const service = await ClusterService.start({ profile: 'close-reason-test', cluster: { agents: 1, slots: 1 }, writeStateFile: false });
    try {
      const { code, reason } = await sendHostile(service.address);
      expect(code).toBe(CloseCode.protocolError);
      expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
      const client = await Cluster.connect({ address: service.address, credential: service.credential });
      expect(await client.run((x: number) => x * 2, 21)).toBe(42);
      await client.close();
    } finally {
      await service.stop('test done');
    }
  });

  it('from a coordinator, makes the agent close with 4000 and reconnect instead of dying', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    const port = (wss.address() as { port: number }).port;
    let connections = 0;
    const codes: number[] = [];
    const twice = new Promise<void>((resolve) => {
      wss.on('connection', (ws) => {
        connections++;
        ws.on('close', (code) => codes.push(code));
        ws.once('message', () => ws.send(encodeFrame(hostile as never)));
        if (connections === 2) resolve();
      });
    });
    const agent = spawn(process.execPath, [agentBundle], {
      env: { PATH: process.env.PATH, CLUSTRIX_URL: `ws://127.0.0.1:${port}`, CLUSTRIX_TOKEN: 'close-reason-test-token-0123456789', CLUSTRIX_SLOTS: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      await twice; // a second connection: the agent survived the first and reconnected
      expect(agent.exitCode).toBeNull();
      expect(codes[0]).toBe(CloseCode.protocolError);
    } finally {
      agent.kill('SIGKILL');
      wss.close();
    }
  });
});
