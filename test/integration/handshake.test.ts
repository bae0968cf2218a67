// The coordinator's handshake against real sockets: garbage, silence, another protocol version
// and a wrong token each close the connection with the code that says why.
import { spawn } from 'node:child_process';
import os from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { Cluster } from 'clustrix';
import { CloseCode, PROTOCOL_VERSION, encodeFrame } from 'clustrix/protocol';
import { agentBundle, coordinatorUrl } from '../helpers/processes.js';

let cluster: Cluster;
let url: string;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  cluster = await Cluster.start({ agents: 1, slots: 1 });
  url = await coordinatorUrl(cluster);
});
afterEach(() => {
  for (const ws of sockets.splice(0)) ws.terminate();
  vi.restoreAllMocks();
});
afterAll(async () => {
  await cluster?.close();
});

/** Opens a raw client and resolves once connected. */
async function connect(): Promise<WebSocket> {
  const ws = new WebSocket(url);
  sockets.push(ws);
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return ws;
}

function closed(ws: WebSocket): Promise<{ code: number; reason: string; at: number }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString(), at: Date.now() })));
}

function hello(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'hello', protocol: PROTOCOL_VERSION, token: 'not-the-cluster-token-0123456789', agentId: null, jobId: null, host: os.hostname(),
    pid: process.pid, cpus: 1, memoryBytes: os.totalmem(), node: process.version, slots: 1, inlineConcurrency: 1, walltimeLeftMs: null,
    ...overrides,
  };
}

/** Coordinator log lines written to stderr while `fn` runs. */
function captureStderr(): string[] {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
  });
  return lines;
}

describe('the coordinator closes a connection', () => {
  it('that sends bytes that are not msgpack, with 4000', async () => {
    const ws = await connect();
    const done = closed(ws);
    ws.send(Buffer.from([0xc1, 0xc1, 0xff, 0x00, 0x13]));
    expect((await done).code).toBe(CloseCode.protocolError);
  });

  it('that sends a text frame, with 4000', async () => {
    const ws = await connect();
    const done = closed(ws);
    ws.send('{"type":"hello"}');
    expect((await done).code).toBe(CloseCode.protocolError);
  });

  it('whose first message is not a hello, with 4000', async () => {
    const ws = await connect();
    const done = closed(ws);
    ws.send(encodeFrame([{ type: 'pong', t: 1, rssBytes: 1, running: 0, peerBytesIn: 0, peerBytesOut: 0 }]));
    const { code, reason } = await done;
    expect(code).toBe(CloseCode.protocolError);
    expect(reason).toMatch(/hello/);
  });

  it('that says hello in protocol 999, with 4001 naming both versions', async () => {
    const ws = await connect();
    const done = closed(ws);
    ws.send(encodeFrame([hello({ protocol: 999 }) as never]));
    const { code, reason } = await done;
    expect(code).toBe(CloseCode.versionMismatch);
    expect(reason).toContain('999');
    expect(reason).toContain(String(PROTOCOL_VERSION));
  });

  it('of the protocol before frame segments (version 1), with 4001 naming both versions', async () => {
    const ws = await connect();
    const done = closed(ws);
    ws.send(encodeFrame([hello({ protocol: 1 }) as never]));
    const { code, reason } = await done;
    expect(code).toBe(CloseCode.versionMismatch);
    expect(reason).toContain(`the agent speaks protocol version 1, this side speaks version ${PROTOCOL_VERSION}`);
  });

  it('that presents a wrong token, with 4003', async () => {
    const ws = await connect();
    const done = closed(ws);
    ws.send(encodeFrame([hello() as never]));
    expect((await done).code).toBe(CloseCode.authFailed);
  });

  it('that sends nothing, with 4004 within about 5 s', { timeout: 15_000 }, async () => {
    const ws = await connect();
    const openedAt = Date.now();
    const { code, at } = await closed(ws);
    expect(code).toBe(CloseCode.authTimeout);
    expect(at - openedAt).toBeLessThan(8_000);
  });
});

describe('an agent started with a wrong token', () => {
  it('exits with code 2, and the coordinator logs a warning', { timeout: 30_000 }, async () => {
    const logs = captureStderr();
    const agentsBefore = (await cluster.agents()).map((a) => a.id);
    const child = spawn(process.execPath, [agentBundle], {
      env: { PATH: process.env.PATH ?? '', CLUSTRIX_URL: url, CLUSTRIX_TOKEN: 'wrong-token-wrong-token-wrong', CLUSTRIX_SLOTS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    expect(exitCode, `agent stderr:\n${stderr}`).toBe(2);
    expect(stderr).toMatch(/4003/);
    expect(logs.join('')).toMatch(/warn: refused an agent connection .*wrong token/);
    expect((await cluster.agents()).map((a) => a.id)).toEqual(agentsBefore);
  });

  it('leaves the cluster working', async () => {
    expect(await cluster.run((a: number) => a * a, 9)).toBe(81);
  });
});
