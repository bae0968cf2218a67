// The tunnel relay (agent/relay.ts) as it runs on a login node: the real bundle, started with
// CLUSTRIX_RELAY_LISTEN in its environment, in a child process. Needs only node and `npm run build`.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { agentBundle, isAlive, waitUntil } from '../helpers/processes.js';

interface Started {
  child: ChildProcess;
  port: number;
  portFile: string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  startedAt: number;
}

let dir: string;
const children: ChildProcess[] = [];
const servers: Server[] = [];

beforeAll(() => {
  if (!existsSync(agentBundle)) throw new Error(`${agentBundle} is missing: run \`npm run build\` first`);
  dir = mkdtempSync(join(tmpdir(), 'clustrix-relay-'));
});
afterEach(async () => {
  for (const c of children.splice(0)) if (c.pid !== undefined && isAlive(c.pid)) c.kill('SIGKILL');
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** Starts the bundle in relay mode and resolves once its port file appears. */
async function startRelay(target: string, env: Record<string, string> = {}, stdin: 'pipe' | 'ignore' = 'ignore'): Promise<Started> {
  const portFile = join(dir, `relay-${++n}.port`);
  const startedAt = Date.now();
  const child = spawn(process.execPath, [agentBundle], {
    env: { PATH: process.env.PATH ?? '', CLUSTRIX_RELAY_LISTEN: '127.0.0.1:0', CLUSTRIX_RELAY_TARGET: target, CLUSTRIX_RELAY_PORT_FILE: portFile, ...env },
    stdio: [stdin, 'ignore', 'pipe'],
  });
  children.push(child);
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  await waitUntil(async () => existsSync(portFile) || child.exitCode !== null, { timeoutMs: 10_000, what: 'the relay port file' });
  if (!existsSync(portFile)) throw new Error(`the relay exited before listening:\n${err}`);
  const port = Number(readFileSync(portFile, 'utf8').trim());
  return { child, port, portFile, stderr: () => err, exited, startedAt };
}

/**
 * A target that echoes every byte and, once the client has half-closed, appends
 * `|bye:<bytes seen>:<sha256 of them>` and ends: the reply after our FIN proves half-close works.
 */
function echoTarget(): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    let seen = 0;
    const hash = createHash('sha256');
    s.on('data', (d: Buffer) => {
      seen += d.length;
      hash.update(d);
      s.write(d);
    });
    s.on('end', () => s.end(`|bye:${seen}:${hash.digest('hex')}`));
    s.on('error', () => undefined);
  });
  servers.push(server);
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, sockets })));
}

function trailer(data: Buffer): string {
  return `|bye:${data.length}:${createHash('sha256').update(data).digest('hex')}`;
}

/** Sends `data`, half-closes, and collects everything until the relay closes the socket. */
function exchange(port: number, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => s.end(data));
    const got: Buffer[] = [];
    s.on('data', (d: Buffer) => got.push(d));
    s.on('close', () => resolve(Buffer.concat(got)));
    s.on('error', reject);
  });
}

/** Connects through the relay and completes one echo round trip, so the relayed connection surely exists. */
async function relayedConnection(port: number): Promise<Socket> {
  const client = connect(port, '127.0.0.1');
  client.on('error', () => undefined);
  await new Promise((r) => client.once('connect', r));
  const reply = new Promise<string>((r) => client.once('data', (d: Buffer) => r(d.toString())));
  client.write('ping');
  expect(await reply).toBe('ping');
  return client;
}

function freePort(): Promise<number> {
  const probe = createServer();
  return new Promise((resolve) => probe.listen(0, '127.0.0.1', () => {
    const { port } = probe.address() as { port: number };
    probe.close(() => resolve(port));
  }));
}

describe('relay mode of agent.cjs (CLUSTRIX_RELAY_LISTEN)', () => {
  test('writes its bound port to a 0600 file, atomically, and relays bytes both ways with half-close', async () => {
    const target = await echoTarget();
    const relay = await startRelay(`127.0.0.1:${target.port}`, { CLUSTRIX_EXIT_WITH_STDIN: '1' }, 'pipe');
    expect(relay.port).toBeGreaterThan(0);
    expect(relay.port).not.toBe(target.port);
    expect(statSync(relay.portFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(relay.portFile, 'utf8')).toBe(`${relay.port}\n`);
    // nothing but the port file: the temp file was renamed into place
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);

    const small = Buffer.from('hello');
    expect((await exchange(relay.port, small)).toString()).toBe(`hello${trailer(small)}`);

    // 4 MiB of every byte value over three connections at once: the target saw exactly what was
    // sent (its digest), and the echo came back byte for byte, then the trailer after our FIN.
    const big = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 11)) & 0xff;
    const results = await Promise.all([1, 2, 3].map(() => exchange(relay.port, big)));
    for (const r of results) {
      expect(r.length).toBe(big.length + trailer(big).length);
      expect(r.subarray(0, big.length).equals(big)).toBe(true);
      expect(r.subarray(big.length).toString()).toBe(trailer(big));
    }
    expect(relay.stderr()).toContain(`listening on 127.0.0.1:${relay.port}`);
  });

  test('exits when its stdin closes (CLUSTRIX_EXIT_WITH_STDIN=1), removing its port file', async () => {
    const target = await echoTarget();
    const relay = await startRelay(`127.0.0.1:${target.port}`, { CLUSTRIX_EXIT_WITH_STDIN: '1', CLUSTRIX_GRACE_MS: '600000' }, 'pipe');
    const closedAt = Date.now();
    relay.child.stdin?.end();
    const exit = await relay.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - closedAt).toBeLessThan(3_000);
    expect(existsSync(relay.portFile)).toBe(false);
    expect(relay.stderr()).toContain('stdin closed');
  });

  test('ignores SIGHUP; exits on SIGTERM, closing the connections it relays', async () => {
    const target = await echoTarget();
    const relay = await startRelay(`127.0.0.1:${target.port}`, { CLUSTRIX_GRACE_MS: '600000' });
    // (the target also sees the relay's probes come and go: a round trip tells the relayed connection apart)
    const client = await relayedConnection(relay.port);
    // A hang-up is ignored, as under nohup (which node itself would undo at startup).
    relay.child.kill('SIGHUP');
    // Without a handler the kernel ends the process on delivery; a fresh relayed round trip after
    // the signal shows it is still serving.
    const after = await relayedConnection(relay.port);
    after.destroy();
    expect(isAlive(relay.child.pid!)).toBe(true);
    const clientClosed = new Promise((r) => client.once('close', r));
    relay.child.kill('SIGTERM');
    expect((await relay.exited).code).toBe(0);
    await clientClosed;
    expect(existsSync(relay.portFile)).toBe(false);
  });

  test('exits by itself after CLUSTRIX_GRACE_MS with an unreachable target (no orphan on the login node)', async () => {
    const gone = await freePort();
    const relay = await startRelay(`127.0.0.1:${gone}`, { CLUSTRIX_GRACE_MS: '1500' });
    const exit = await relay.exited;
    expect(exit.code).toBe(1);
    const lived = exit.at - relay.startedAt;
    expect(lived).toBeGreaterThanOrEqual(1_400);
    expect(lived).toBeLessThan(6_000);
    expect(relay.stderr()).toMatch(/unreachable \(ECONNREFUSED\)/);
    expect(relay.stderr()).toMatch(/exiting: no connection and target .* unreachable/);
    expect(existsSync(relay.portFile)).toBe(false);
  });

  test('stays while a connection is open even after the target stopped listening; the grace counts from its end', async () => {
    const target = await echoTarget();
    const relay = await startRelay(`127.0.0.1:${target.port}`, { CLUSTRIX_GRACE_MS: '1000' });
    // (the target also sees the relay's probes come and go: a round trip tells the relayed connection apart)
    const client = await relayedConnection(relay.port);
    // The listener goes away (as a forward does when its SSH connection ends) but this connection lives on.
    await new Promise((r) => { target.server.close(r); setTimeout(r, 3_000); });
    expect(isAlive(relay.child.pid!)).toBe(true);
    // ... and still carries bytes
    const reply = new Promise<string>((r) => client.once('data', (d: Buffer) => r(d.toString())));
    client.write('still-here');
    expect(await reply).toBe('still-here');
    const endedAt = Date.now();
    client.destroy();
    for (const s of target.sockets) s.destroy();
    const exit = await relay.exited;
    expect(exit.code).toBe(1);
    expect(exit.at - endedAt).toBeGreaterThanOrEqual(900);
  }, 20_000);

  test('a connection whose target is unreachable is closed at once, and the relay says why', async () => {
    const gone = await freePort();
    const relay = await startRelay(`127.0.0.1:${gone}`, { CLUSTRIX_GRACE_MS: '600000' });
    // closed (or reset: the relay never read what was sent) without a byte from anywhere
    const got = await exchange(relay.port, Buffer.from('x')).catch((err: NodeJS.ErrnoException) => err.code);
    expect(got === 'ECONNRESET' || (Buffer.isBuffer(got) && got.length === 0)).toBe(true);
    await waitUntil(async () => /refused: cannot reach 127\.0\.0\.1:\d+: ECONNREFUSED/.test(relay.stderr()), { what: 'the refusal in the log' });
    relay.child.kill('SIGTERM');
    expect((await relay.exited).code).toBe(0);
  });

  test('a bad environment exits with code 2 and one clear line; a busy port with code 1', async () => {
    const run = (env: Record<string, string>) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [agentBundle], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
        children.push(child);
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
        child.on('exit', (code) => resolve({ code, stderr }));
      });
    const noTarget = await run({ CLUSTRIX_RELAY_LISTEN: '127.0.0.1:0' });
    expect(noTarget.code).toBe(2);
    expect(noTarget.stderr).toMatch(/CLUSTRIX_RELAY_TARGET must be host:port/);
    const badListen = await run({ CLUSTRIX_RELAY_LISTEN: 'nope', CLUSTRIX_RELAY_TARGET: '127.0.0.1:1' });
    expect(badListen.code).toBe(2);
    expect(badListen.stderr).toMatch(/CLUSTRIX_RELAY_LISTEN must be host:port/);
    const target = await echoTarget();
    const busy = await run({ CLUSTRIX_RELAY_LISTEN: `127.0.0.1:${target.port}`, CLUSTRIX_RELAY_TARGET: '127.0.0.1:1' });
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
  });
});
