// Fuzzing the agent's side of the protocol (agent/connection.ts, agent.ts and what runs its
// messages): real agent processes (the bundle, configured by environment) dial a coordinator the
// test plays, which answers their hello with hostile frames. Every hostile connection must be
// closed by the agent with the code the protocol documents for its input; no agent may die
// except where the protocol says it exits (shutdown, another protocol version); and each agent
// must still run tasks correctly afterwards, on the same connection and the next.
// Seeded: CLUSTRIX_FUZZ_SEED=<n> replays a run (the seed is printed, and named in every failure).
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode, CoordinatorMessage, PROTOCOL_VERSION, packValue, unpackValue, type AgentMessage } from 'clustrix/protocol';
import { protocolClasses, type CaseSpec } from './classes.js';
import { AgentProcess, FakeCoordinator, type AgentConnection } from './fake-coordinator.js';
import { COORDINATOR_TEMPLATES, deepCauseFrame, fuzzSeed, missingFields, MULTIBYTE, pack, randomString, rngFor, type Rng } from './generators.js';
import { POISON, POISON_EXPECTATION, predict, type Expectation, type Frame, type Message, type ProtocolModel } from './model.js';
import { describeObserved, judge, runPool, Tally, type FuzzCase, type Observed, type Verdict } from './probe.js';

const seed = fuzzSeed();
const TOKEN = 'fuzz-agent-side-token-0123456789';
const MAX_FRAME_BYTES = 64 * 1024;
/** Agents fuzzed at once, each with its own fake coordinator: an agent waits 50-200 ms before it dials again. */
const LANES = 4;
const DEADLINE_MS = 2_000;

const WELCOME = COORDINATOR_TEMPLATES.welcome;

/** agent/connection.ts and agent.ts, as rules. */
const model: ProtocolModel = {
  schema: CoordinatorMessage,
  handshakeTypes: new Set(['hello', 'welcome']),
  maxFrameBytes: MAX_FRAME_BYTES,
  step(authed, m) {
    if (!authed) return m.type === 'welcome' ? 'authed' : { code: CloseCode.protocolError, reason: /expected welcome/ };
    if (m.type === 'shutdown') return { code: CloseCode.normal, reason: /agent exiting/, exit: 0 };
    return 'continue';
  },
};

/** `handshake`: a valid welcome answers the hello before the frames. */
type AgentCase = FuzzCase;

/** One agent and the fake coordinator it dials; replaced when it exits. */
class Lane {
  readonly fake = new FakeCoordinator();
  agent!: AgentProcess;
  /** Deaths no rule explains, with the case that caused each. */
  readonly deaths: string[] = [];
  private probes = 0;

  constructor(
    readonly index: number,
    private readonly cacheDir: string,
  ) {}

  async start(): Promise<void> {
    await this.fake.listen();
    this.spawn();
  }

  spawn(): void {
    this.fake.discardPending();
    this.agent = AgentProcess.start({
      CLUSTRIX_URL: this.fake.url,
      CLUSTRIX_TOKEN: TOKEN,
      CLUSTRIX_AGENT_ID: `fz-lane-${this.index}`,
      CLUSTRIX_SLOTS: '1',
      CLUSTRIX_INLINE_CONCURRENCY: '4',
      CLUSTRIX_MAX_FRAME_BYTES: String(MAX_FRAME_BYTES),
      CLUSTRIX_CACHE_DIR: this.cacheDir,
      CLUSTRIX_GRACE_MS: '120000',
    });
  }

  nextProbe(): number {
    return this.probes++;
  }
}

const tally = new Tally(seed);
const lanes: Lane[] = [];
let cacheDir = '';
/** An agent whose first dial is never answered: ws gives up after its handshakeTimeout (10 s), so it starts first and is judged last. */
let silent: Lane | null = null;
let silentRun: Promise<Verdict> | null = null;
const NEVER_ANSWERS = 'never answers';

beforeAll(async () => {
  console.info(`agent fuzz: seed ${seed} (replay with CLUSTRIX_FUZZ_SEED=${seed})`);
  cacheDir = mkdtempSync(join(os.tmpdir(), 'clustrix-fuzz-'));
  for (let i = 0; i < LANES; i++) lanes.push(new Lane(i, join(cacheDir, `lane-${i}`)));
  await Promise.all(lanes.map((l) => l.start()));
  silent = new Lane(LANES, join(cacheDir, 'lane-silent'));
  silent.fake.raw.push(() => undefined);
  await silent.start();
  silentRun = runAgentCase(silent, { cls: 'a coordinator that never completes the upgrade', name: NEVER_ANSWERS, handshake: true, frames: [] });
});

afterAll(async () => {
  console.info(tally.table());
  await Promise.all([...lanes, ...(silent ? [silent] : [])].map(async (l) => {
    await l.agent.stop();
    await l.fake.close();
  }));
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
});

const isType = <K extends AgentMessage['type']>(type: K) => (m: AgentMessage): m is Extract<AgentMessage, { type: K }> => m.type === type;

/**
 * Proves the agent still works on this connection: a ping answered, then a worker-thread task,
 * an inline task and a chunk, each with the right result. Returns what went wrong, or null.
 */
async function checkWork(conn: AgentConnection, n: number): Promise<string | null> {
  const t = 0.5 + n;
  const id = (k: string): string => `probe-${n}-${k}`;
  try {
    conn.ws.send(pack([{ type: 'ping', t }]));
    await conn.next((m): m is Extract<AgentMessage, { type: 'pong' }> => m.type === 'pong' && m.t === t, 5_000);
    conn.ws.send(pack([
      { type: 'code', hash: 'fz-probe', kind: 'function', source: '(x) => x * 2' },
      { type: 'task', id: id('pool'), code: 'fz-probe', export: null, args: packValue([21]), inline: false, chunk: false, timeoutMs: null, keep: null, deps: [] },
      { type: 'task', id: id('inline'), code: 'fz-probe', export: null, args: packValue([5]), inline: true, chunk: false, timeoutMs: null, keep: null, deps: [] },
      { type: 'task', id: id('chunk'), code: 'fz-probe', export: null, args: packValue([[1], [2]]), inline: false, chunk: true, timeoutMs: null, keep: null, deps: [] },
    ]));
    const results: unknown[] = [];
    for (const k of ['pool', 'inline', 'chunk']) {
      const m = await conn.next((x): x is Extract<AgentMessage, { type: 'done' | 'failed' }> => (x.type === 'done' || x.type === 'failed') && x.id === id(k), 5_000);
      results.push(m.type === 'done' ? unpackValue(m.value) : `failed: ${m.error.message}`);
    }
    const want = [42, 10, [2, 4]];
    return JSON.stringify(results) === JSON.stringify(want) ? null : `work after the hostile frames returned ${JSON.stringify(results)}, not ${JSON.stringify(want)}`;
  } catch (err) {
    return `work after the hostile frames: ${(err as Error).message}`;
  }
}

/** One case on the lane agent's next connection. */
async function runAgentCase(lane: Lane, c: AgentCase): Promise<Verdict> {
  if (lane.agent.exitCode !== null) lane.spawn();
  const prediction = predict(model, c.handshake, c.frames);
  let expected: Expectation = 'close' in prediction ? prediction.close : POISON_EXPECTATION;
  // A coordinator of another version is final: the agent exits with 2 rather than dial again.
  if (expected.code === CloseCode.versionMismatch) expected = { ...expected, exit: 2 };
  const failed = (detail: string): Verdict => ({ c, expected, observed: { kind: 'failed', detail }, ok: false });

  let conn: AgentConnection;
  try {
    conn = await lane.fake.nextConnection(15_000);
    const hello = await conn.next(isType('hello'), 5_000);
    if (hello.token !== TOKEN) return failed(`the agent's hello carried another token`);
  } catch (err) {
    return failed(`${(err as Error).message} (agent ${lane.agent.exitCode === null ? 'running' : `exited ${lane.agent.exitCode}: ${lane.agent.tail()}`})`);
  }
  const upgrades = lane.fake.upgrades;
  if (c.handshake) conn.ws.send(pack([WELCOME]));
  for (const frame of c.frames) {
    if (conn.ws.readyState !== conn.ws.OPEN) break;
    if ('raw' in frame) conn.socket.write(frame.raw);
    else if ('text' in frame) conn.ws.send(frame.text);
    else conn.ws.send(frame.binary);
  }
  if ('open' in prediction) {
    const problem = await checkWork(conn, lane.nextProbe());
    if (problem) {
      conn.ws.terminate();
      return failed(problem);
    }
    conn.ws.send(POISON);
  }
  const close = await Promise.race([conn.closed, new Promise<Observed>((resolve) => setTimeout(() => resolve({ kind: 'open' }), DEADLINE_MS))]);
  if (close.kind === 'open') conn.ws.terminate();
  // Alive agents dial again; the others exit. Either settles the question.
  const exit = await Promise.race([lane.agent.exited, lane.fake.waitForUpgrade(8_000, upgrades).then(() => null)]);
  const exitOk = expected.exit === undefined ? exit === null : exit === expected.exit;
  if (exit !== null && expected.exit === undefined) lane.deaths.push(`[seed ${seed}] ${c.cls} / ${c.name}: exit ${exit}: ${lane.agent.tail()}`);
  const observed: Observed = exitOk ? close : { kind: 'failed', detail: `${describeObserved(close)}, then ${exit === null ? 'it did not exit' : `it exited ${exit}: ${lane.agent.tail()}`}` };
  return { c, expected, observed, ok: exitOk && judge(expected, close) };
}

/** Spreads cases over the lanes (each runs its share in order) and judges them all. */
async function runCases(cls: string, cases: readonly { name: string; handshake: boolean; frames: Frame[] }[]): Promise<void> {
  // Pairs stay together (bothPhases): a lane fed only cases without a welcome backs off ever longer.
  const shares = lanes.map((_, i) => cases.filter((_, j) => Math.floor(j / 2) % lanes.length === i));
  const perLane = await runPool(lanes, lanes.length, async (lane) => {
    const out: Verdict[] = [];
    for (const s of shares[lane.index]!) out.push(await runAgentCase(lane, { cls, name: `${s.handshake ? 'after' : 'before'} the welcome: ${s.name}`, handshake: s.handshake, frames: s.frames }));
    return out;
  });
  const verdicts = perLane.flat();
  for (const v of verdicts) tally.add(v);
  expect(Tally.failuresOf(verdicts, seed)).toEqual([]);
}

/** Before and after the welcome, alternating: every welcome resets the agent's reconnect backoff. */
function bothPhases(before: readonly CaseSpec[], after: readonly CaseSpec[]): { name: string; handshake: boolean; frames: Frame[] }[] {
  const out: { name: string; handshake: boolean; frames: Frame[] }[] = [];
  for (let i = 0; i < Math.max(before.length, after.length); i++) {
    if (after[i]) out.push({ ...after[i]!, handshake: true });
    if (before[i]) out.push({ ...before[i]!, handshake: false });
  }
  return out;
}

const options = { templates: COORDINATOR_TEMPLATES as Record<string, Message>, handshakeType: 'welcome', maxFrameBytes: MAX_FRAME_BYTES, side: 'server' as const, count: 12 };
const before = protocolClasses(rngFor(seed, 'before'), options);
const after = protocolClasses(rngFor(seed, 'after'), options);

describe('the agent', () => {
  it('has a template for every field of every coordinator message', () => {
    expect(missingFields(CoordinatorMessage, COORDINATOR_TEMPLATES)).toEqual([]);
  });

  describe.each([...before.keys()])('%s', (cls) => {
    it('closes each connection with the documented code, before and after the welcome', { timeout: 120_000 }, async () => runCases(cls, bothPhases(before.get(cls)!, after.get(cls) ?? [])));
  });

  it('keeps a connection through forged, duplicate and odd valid messages, and still works', { timeout: 120_000 }, async () => {
    const rng = rngFor(seed, 'hostile');
    const cases = Array.from({ length: 24 }, (_, i) => ({ name: `#${i}`, handshake: true, frames: Array.from({ length: rng.int(1, 3) }, () => ({ binary: pack(hostileBatch(rng)) })) }));
    cases.push({ name: 'a cause chain 300 deep', handshake: true, frames: [{ binary: deepCauseFrame({ ...COORDINATOR_TEMPLATES['actor-reply'] }, 'error', 300) }] });
    await runCases('valid messages, hostile content', cases);
  });

  it('refuses a cause chain deep enough to overflow the validator, with 4000', async () => {
    await runCases('deep cause chain', [{ name: '2,500 deep', handshake: true, frames: [{ binary: deepCauseFrame({ ...COORDINATOR_TEMPLATES['actor-reply'] }, 'error', 2_500) }] }]);
  });

  it('handles the messages that come in the welcome frame', async () => {
    const m = COORDINATOR_TEMPLATES;
    await runCases('messages in the welcome frame', [
      { name: 'welcome + ping + code + task', handshake: false, frames: [{ binary: pack([WELCOME, { type: 'ping', t: 3 }, m.code, m.task]) }] },
      { name: 'welcome + welcome', handshake: false, frames: [{ binary: pack([WELCOME, WELCOME]) }] },
      { name: 'welcome + an unknown type', handshake: false, frames: [{ binary: pack([WELCOME, { type: 'nope' }]) }] },
      { name: 'welcome + shutdown', handshake: false, frames: [{ binary: pack([WELCOME, m.shutdown]) }] },
    ]);
  });

  it('exits with 0 on shutdown, whatever its reason', { timeout: 60_000 }, async () => {
    const reasons = { ascii: 'pool scaled down', 'ascii×300': 'r'.repeat(300), ...MULTIBYTE };
    await runCases('shutdown', Object.entries(reasons).map(([name, reason]) => ({ name: `reason = ${name}`, handshake: true, frames: [{ binary: pack([{ type: 'shutdown', reason }]) }] })));
  });

  it('dials again when the coordinator never completes the upgrade, then works', { timeout: 60_000 }, async () => {
    const answers: [string, (s: Socket) => void][] = [
      ['closes the TCP connection at once', (s) => s.destroy()],
      ['answers 200 OK', (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n')],
      ['answers bytes that are not HTTP', (s) => s.end(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0d, 0x0a, 0x0d, 0x0a]))],
      ['answers 101 with a wrong Sec-WebSocket-Accept', (s) => s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: bm90IHRoZSByaWdodCBrZXk=\r\n\r\n')],
    ];
    const seen: string[] = new Array<string>(answers.length);
    await runPool(lanes, lanes.length, async (lane) => {
      for (let i = lane.index; i < answers.length; i += lanes.length) {
        const [name, answer] = answers[i]!;
        if (lane.agent.exitCode !== null) lane.spawn();
        // The agent has dialled again already: that connection goes, the next dial gets the answer.
        const pending = await lane.fake.nextConnection(15_000);
        lane.fake.raw.push(answer);
        pending.ws.terminate();
        const v = await runAgentCase(lane, { cls: 'a coordinator that never completes the upgrade', name, handshake: true, frames: [] });
        tally.add(v);
        seen[i] = `${name}: ${v.ok ? 'dialled again and worked' : describeObserved(v.observed)}`;
      }
    });
    const v = await silentRun!;
    tally.add(v);
    seen.push(`${NEVER_ANSWERS}: ${v.ok ? 'dialled again and worked' : describeObserved(v.observed)}`);
    expect(seen).toEqual([...answers.map(([name]) => name), NEVER_ANSWERS].map((name) => `${name}: dialled again and worked`));
  });
});

describe('afterwards', () => {
  it('no agent died, except by the exits the protocol documents', () => {
    expect(lanes.flatMap((l) => l.deaths)).toEqual([]);
  });

  it('every agent still runs tasks correctly', { timeout: 60_000 }, async () => {
    const seen = await Promise.all(lanes.map(async (lane) => {
      const v = await runAgentCase(lane, { cls: 'a plain connection', name: `lane ${lane.index}`, handshake: true, frames: [] });
      return v.ok ? 'ok' : describeObserved(v.observed);
    }));
    expect(seen).toEqual(lanes.map(() => 'ok'));
  });
});

/** Valid coordinator messages with hostile content: unknown ids, junk code and arguments, odd numbers. Never shutdown. */
function hostileBatch(rng: Rng): Record<string, unknown>[] {
  const ids = ['t1', 't1', '€'.repeat(64), 'x'.repeat(128), randomString(rng, 6) || 't'];
  const actorIds = ['a1', 'a1', '€'.repeat(64)];
  const hashes = ['fz-fn', 'fz-class', 'fz-junk', 'fz-mod', 'never-sent'];
  const args = (): Uint8Array => rng.pick([packValue([1, 2]), packValue(5), packValue([[1], [2]]), rng.bytes(rng.int(0, 12)), packValue(['€'.repeat(64)])]);
  const out: Record<string, unknown>[] = [
    { type: 'code', hash: 'fz-fn', kind: 'function', source: '(...a) => a.length' },
    { type: 'code', hash: 'fz-class', kind: 'function', source: 'class FzActor { m(x) { return x; } }' },
    { type: 'code', hash: 'fz-junk', kind: 'function', source: randomString(rng, 30) },
    { type: 'code', hash: 'fz-mod', kind: 'module', source: randomString(rng, 30) },
  ];
  let actors = 0;
  for (let i = rng.int(1, 10); i > 0; i--) {
    switch (rng.int(0, 8)) {
      case 0:
      case 1:
        out.push({
          type: 'task', id: rng.pick(ids), code: rng.pick(hashes), export: rng.pick([null, 'default', randomString(rng, 4)]), args: args(),
          inline: rng.bool(), chunk: rng.bool(), timeoutMs: rng.pick([null, 1, 50, 2 ** 31 - 1, 2 ** 40, Number.MAX_SAFE_INTEGER]),
          keep: rng.pick([null, null, 'fz-kept']), deps: [],
        });
        break;
      case 2:
        out.push({ type: 'cancel', id: rng.pick(ids) });
        break;
      case 3:
        out.push({ type: 'ping', t: rng.pick([0, -0, -1e308, 1e308, 5e-324, 2 ** 53 - 1]) });
        break;
      case 4:
        // One actor thread per batch at most: each is a worker thread of its own.
        if (actors++ === 0) out.push({ type: 'actor-create', actorId: rng.pick(actorIds), code: rng.pick(hashes), export: rng.pick([null, 'FzActor']), args: args(), maxConcurrency: rng.int(1, 3) });
        break;
      case 5:
        out.push({ type: 'actor-call', id: rng.pick(ids), actorId: rng.pick(actorIds), method: rng.pick(['m', 'constructor', '__proto__', 'toString', '€']), args: args(), timeoutMs: rng.pick([null, 1, 100]), deps: [] });
        break;
      case 6:
        out.push({ type: 'actor-kill', actorId: rng.pick(actorIds) });
        break;
      case 7:
        out.push({ type: 'actor-reply', id: rng.pick(ids), value: rng.bool() ? packValue(1) : null, error: rng.bool() ? null : { name: randomString(rng, 5), message: randomString(rng, 20) } });
        break;
      default:
        out.push({ ...WELCOME, protocol: PROTOCOL_VERSION, agentId: rng.pick(ids) });
    }
  }
  return out.filter((m) => CoordinatorMessage.safeParse(m).success);
}
