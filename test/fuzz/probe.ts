/**
 * Running fuzz cases against a listening port and judging them: a client that sends a case's
 * frames (through ws, or below it) and sees how the port closes the connection, a guard that
 * turns an uncaught exception in this process (the coordinator, the service) into a test failure,
 * and a tally of which close code each input class got.
 */
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { label, POISON, POISON_EXPECTATION, predict, type Expectation, type Frame, type ProtocolModel } from './model.js';

export interface FuzzCase {
  /** The input class, e.g. 'random bytes'. */
  cls: string;
  name: string;
  /** Complete the handshake (hello, answered) before sending `frames`. */
  handshake: boolean;
  frames: Frame[];
}

export type Observed = { kind: 'closed'; code: number; reason: string } | { kind: 'open' } | { kind: 'failed'; detail: string };

export interface Verdict {
  c: FuzzCase;
  expected: Expectation;
  observed: Observed;
  ok: boolean;
}

export function describeObserved(o: Observed): string {
  if (o.kind === 'open') return 'left open (no close)';
  if (o.kind === 'failed') return `failed: ${o.detail}`;
  return `${o.code}${o.reason ? ` '${o.reason.slice(0, 90)}'` : ''}`;
}

export function judge(expected: Expectation, observed: Observed): boolean {
  return observed.kind === 'closed' && observed.code === expected.code && (expected.reason === undefined || expected.reason.test(observed.reason));
}

/** A port clients dial: its address, its protocol model and its handshake. */
export interface ClientPort {
  url: string;
  model: ProtocolModel;
  /** The first frame of a well-behaved peer. */
  handshake(): Buffer;
  /** True for the frame that accepts it. */
  accepted(data: Buffer): boolean;
}

/** Closes a socket the port left open after `ms`; a bound, not a synchronisation. */
export function closeOf(ws: WebSocket, ms: number): Promise<Observed> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ws.terminate();
      resolve({ kind: 'open' });
    }, ms);
    ws.once('close', (code: number, reason: Buffer) => {
      clearTimeout(timer);
      resolve({ kind: 'closed', code, reason: reason.toString() });
    });
  });
}

/** Opens a client whose raw socket is reachable (for frames below ws); resolves once open. */
export async function openClient(url: string): Promise<{ ws: WebSocket; socket: Socket }> {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 0 });
  ws.on('error', () => undefined);
  let socket: Socket | undefined;
  ws.once('upgrade', (res) => (socket = res.socket));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, socket: socket! };
}

/** One case on a fresh connection: handshake, frames, then poison if the port should still be open. */
export async function runClientCase(port: ClientPort, c: FuzzCase, deadlineMs: number): Promise<Verdict> {
  const prediction = predict(port.model, c.handshake, c.frames);
  const expected = 'close' in prediction ? prediction.close : POISON_EXPECTATION;
  let ws: WebSocket;
  let socket: Socket;
  try {
    ({ ws, socket } = await openClient(port.url));
  } catch (err) {
    return { c, expected, observed: { kind: 'failed', detail: `could not connect: ${(err as Error).message}` }, ok: false };
  }
  const closed = closeOf(ws, deadlineMs);
  if (c.handshake) {
    ws.send(port.handshake());
    const answer = await Promise.race([new Promise<Buffer>((resolve) => ws.once('message', (d: Buffer) => resolve(d))), closed]);
    if (!Buffer.isBuffer(answer) || !port.accepted(answer)) {
      ws.terminate();
      return { c, expected, observed: { kind: 'failed', detail: `handshake not accepted (${Buffer.isBuffer(answer) ? 'another frame' : describeObserved(answer)})` }, ok: false };
    }
  }
  // Reading on (and answering pings) is ws's job; the case only writes.
  const sendAll = [...c.frames, ...('open' in prediction ? [{ binary: POISON }] : [])];
  for (const frame of sendAll) {
    if (ws.readyState !== WebSocket.OPEN) break;
    if ('raw' in frame) socket.write(frame.raw);
    else if ('text' in frame) ws.send(frame.text);
    else ws.send(frame.binary);
  }
  const observed = await closed;
  return { c, expected, observed, ok: judge(expected, observed) };
}

/** Runs one input class's cases, `concurrency` connections at a time; each verdict goes to `tally`. */
export async function runClass(port: ClientPort, tally: Tally, cases: readonly FuzzCase[], o: { concurrency: number; deadlineMs: number }): Promise<Verdict[]> {
  const verdicts = await runPool(cases, o.concurrency, (c) => runClientCase(port, c, o.deadlineMs));
  for (const v of verdicts) tally.add(v);
  return verdicts;
}

/** A peer a test scripts by hand: it reads what the port sends, and waits for what it needs. */
export interface Peer<M> {
  ws: WebSocket;
  /** The next message that matches (the first one already received, or the next to arrive). */
  next<T extends M>(match: (m: M) => m is T): Promise<T>;
  closed: Promise<Observed>;
}

export async function openPeer<M>(url: string, decode: (data: Buffer) => M[], closeWithinMs = 60_000): Promise<Peer<M>> {
  const { ws } = await openClient(url);
  const inbox: M[] = [];
  const waiters: (() => void)[] = [];
  ws.on('message', (data: Buffer) => {
    inbox.push(...decode(data));
    for (const w of waiters.splice(0)) w();
  });
  const next = async <T extends M>(match: (m: M) => m is T): Promise<T> => {
    for (;;) {
      const i = inbox.findIndex(match);
      if (i >= 0) return inbox.splice(i, 1)[0] as T;
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
  };
  return { ws, next, closed: closeOf(ws, closeWithinMs) };
}

/** A type guard for `peer.next(ofType('welcome'))`. */
export function ofType<M extends { type: string }, K extends M['type']>(type: K): (m: M) => m is Extract<M, { type: K }> {
  return (m): m is Extract<M, { type: K }> => m.type === type;
}

/** Runs `fn` over `items`, `concurrency` at a time, keeping the order of results. */
export async function runPool<T, R>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  return results;
}

/**
 * Uncaught exceptions and unhandled rejections of this process. The coordinator and the service
 * run here: a handler that throws is a crash, and must fail the test that provoked it.
 */
export class CrashGuard {
  private errors: unknown[] = [];
  private readonly record = (err: unknown): void => void this.errors.push(err);

  install(): void {
    process.on('uncaughtException', this.record);
    process.on('unhandledRejection', this.record);
  }

  uninstall(): void {
    process.off('uncaughtException', this.record);
    process.off('unhandledRejection', this.record);
  }

  /** The errors recorded since the last call, as printable lines. */
  take(): string[] {
    const out = this.errors.map((e) => (e instanceof Error ? `${e.name}: ${e.message}\n${e.stack?.split('\n').slice(1, 7).join('\n') ?? ''}` : String(e)));
    this.errors = [];
    return out;
  }
}

/** Which outcome each input class got, and every case that got another than the model says. */
export class Tally {
  private readonly seen = new Map<string, Map<string, number>>();

  constructor(private readonly seed: number) {}

  add(v: Verdict): void {
    const key = `${v.c.cls} (expected ${label(v.expected)})`;
    const counts = this.seen.get(key) ?? new Map<string, number>();
    const seenAs = v.observed.kind === 'closed' ? String(v.observed.code) : describeObserved(v.observed);
    counts.set(seenAs, (counts.get(seenAs) ?? 0) + 1);
    this.seen.set(key, counts);
  }

  /** Failures of one batch of verdicts, as an assertion message. */
  static failuresOf(verdicts: readonly Verdict[], seed: number): string[] {
    return verdicts
      .filter((v) => !v.ok)
      .map((v) => `[seed ${seed}] ${v.c.cls} / ${v.c.name}: expected ${label(v.expected)}${v.expected.reason ? ` ${String(v.expected.reason)}` : ''}, got ${describeObserved(v.observed)}`);
  }

  table(): string {
    const lines = [`fuzz seed ${this.seed} (replay with CLUSTRIX_FUZZ_SEED=${this.seed})`];
    for (const [cls, counts] of this.seen) lines.push(`  ${cls}: ${[...counts].map(([k, n]) => `${k} ×${n}`).join(', ')}`);
    return lines.join('\n');
  }
}
