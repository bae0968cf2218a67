// Fuzzing the coordinator's agent port (coordinator/server.ts, link.ts, the cluster's message
// handlers) with a real cluster and its real agent. Every hostile connection must be closed with
// the code the protocol documents for its input, nothing may throw uncaught in this process (the
// coordinator), and the cluster must still map correctly on the same agent afterwards.
// Seeded: CLUSTRIX_FUZZ_SEED=<n> replays a run (the seed is printed, and named in every failure).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { ActorDiedError, Cluster } from 'clustrix';
import { AgentMessage, CloseCode, decodeCoordinatorFrame, packValue, PROTOCOL_VERSION, type CoordinatorMessage } from 'clustrix/protocol';
import { coordinatorUrl, waitUntil } from '../helpers/processes.js';
import { protocolClasses, type CaseSpec } from './classes.js';
import { AGENT_TEMPLATES, deepCauseFrame, fuzzSeed, MULTIBYTE, missingFields, pack, randomString, rngFor, type Rng } from './generators.js';
import { POISON, type Message, type ProtocolModel } from './model.js';
import { closeOf, CrashGuard, describeObserved, judge, ofType, openClient, openPeer, runClass, runClientCase, Tally, type ClientPort, type FuzzCase, type Peer } from './probe.js';
import { RAW_TCP_CASES, rawTcp, silentSockets } from './raw-tcp.js';

const seed = fuzzSeed();
const TOKEN = 'fuzz-agent-port-token-0123456789';
const MAX_FRAME_BYTES = 256 * 1024;
/** How long a case waits for the port to close the connection before calling it left open. */
const DEADLINE_MS = 2_000;
const CONCURRENCY = 16;

/** A hello this cluster accepts; agentId null, so concurrent cases never share an id. */
const HELLO = { ...AGENT_TEMPLATES.hello, token: TOKEN, agentId: null, pid: process.pid };
const TEMPLATES: Record<string, Message> = { ...AGENT_TEMPLATES, hello: HELLO };

/** protocol/version.ts, coordinator/server.ts and cluster.ts, as rules. */
const model: ProtocolModel = {
  schema: AgentMessage,
  handshakeTypes: new Set(['hello', 'welcome']),
  maxFrameBytes: MAX_FRAME_BYTES,
  step(authed, m) {
    if (!authed) {
      if (m.type !== 'hello') return { code: CloseCode.protocolError, reason: /first message must be a hello/ };
      if (m.token !== TOKEN) return { code: CloseCode.authFailed, reason: /wrong token/ };
      return 'authed';
    }
    if (m.type === 'hello') return { code: CloseCode.protocolError, reason: /second hello/ };
    if (m.type === 'draining') return { code: CloseCode.shutdown };
    return 'continue';
  },
};

const guard = new CrashGuard();
const tally = new Tally(seed);
let cluster: Cluster;
let agentPid = 0;
let cacheDir = '';
const env = { log: process.env.CLUSTRIX_LOG, cache: process.env.CLUSTRIX_CACHE_DIR };
const port: ClientPort = {
  url: '',
  model,
  handshake: () => pack([HELLO]),
  accepted: (data) => decodeCoordinatorFrame(data, MAX_FRAME_BYTES)[0]?.type === 'welcome',
};

beforeAll(async () => {
  console.info(`agent-port fuzz: seed ${seed} (replay with CLUSTRIX_FUZZ_SEED=${seed})`);
  guard.install();
  // Hundreds of refused connections are expected here: keep their warnings out of the output.
  process.env.CLUSTRIX_LOG = 'error';
  cacheDir = mkdtempSync(join(os.tmpdir(), 'clustrix-fuzz-'));
  process.env.CLUSTRIX_CACHE_DIR = cacheDir;
  cluster = await Cluster.start({ agents: 1, slots: 1, token: TOKEN, maxFrameBytes: MAX_FRAME_BYTES, onLog: () => undefined });
  port.url = await coordinatorUrl(cluster);
  agentPid = (await cluster.agents())[0]!.pid;
});

const fakes: WebSocket[] = [];
afterEach(() => {
  for (const ws of fakes.splice(0)) ws.terminate();
  expect(guard.take().join('\n---\n'), `[seed ${seed}] uncaught in the coordinator's process`).toBe('');
});

afterAll(async () => {
  console.info(tally.table());
  await cluster?.close();
  guard.uninstall();
  for (const [key, value] of [['CLUSTRIX_LOG', env.log], ['CLUSTRIX_CACHE_DIR', env.cache]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
});

async function runCases(cls: string, handshake: boolean, specs: readonly CaseSpec[]): Promise<void> {
  const cases: FuzzCase[] = specs.map((s) => ({ cls: `${cls}, ${handshake ? 'after' : 'before'} the hello`, name: s.name, handshake, frames: s.frames }));
  const verdicts = await runClass(port, tally, cases, { concurrency: CONCURRENCY, deadlineMs: DEADLINE_MS });
  expect(Tally.failuresOf(verdicts, seed)).toEqual([]);
}

// ---- forged results for real work (first: no fuzz link is left to share the work) ----------------------------------------------------------

/** A fake agent: authenticated, and scripted by the test from the messages it receives. */
async function fakeAgent(agentId: string, slots: number): Promise<Peer<CoordinatorMessage>> {
  await waitUntil(async () => (await cluster.agents()).length === 1, { timeoutMs: 10_000, what: 'earlier fuzz connections to leave' });
  const fake = await openPeer(port.url, (d) => decodeCoordinatorFrame(d, MAX_FRAME_BYTES));
  fakes.push(fake.ws);
  fake.ws.send(pack([{ ...HELLO, agentId, slots }]));
  await fake.next(ofType('welcome'));
  return fake;
}

class Counter {
  n = 0;
  add(k: number): number {
    this.n += k;
    return this.n;
  }
}

describe('forged results for real work', () => {
  it('a real task answered twice, then failed, by a fake agent settles once with its first answer', async () => {
    const fake = await fakeAgent('fz-fake-task', 1);
    const result = cluster.broadcast((x: number) => x + 1, 6);
    const task = await fake.next(ofType('task'));
    fake.ws.send(pack([{ type: 'done', id: task.id, value: packValue(100), runMs: 1 }, { type: 'done', id: task.id, value: packValue(200), runMs: 1 }]));
    fake.ws.send(pack([{ type: 'failed', id: task.id, kind: 'exception', error: { name: 'E', message: 'late' } }, { type: 'done', id: 'never-sent', value: packValue(1), runMs: 1 }]));
    expect(await result).toEqual([7, 100]);

    const garbled = cluster.broadcast((x: number) => x + 1, 1);
    const second = await fake.next(ofType('task'));
    fake.ws.send(pack([{ type: 'done', id: second.id, value: POISON, runMs: -0 }]));
    await expect(garbled).rejects.toMatchObject({ code: 'RESULT_DECODE_FAILED' });
    expect((await cluster.agents()).find((a) => a.id === 'fz-fake-task')?.busy).toBe(0);

    fake.ws.send(POISON);
    expect(describeObserved(await fake.closed)).toMatch(/^4000 .*not valid msgpack/);
  });

  it('an actor on a fake agent that forges ready, results and a late constructor failure ends dead, not stuck', async () => {
    const fake = await fakeAgent('fz-fake-actor', 64); // the most free slots: the actor goes there
    const created = cluster.actor(Counter);
    const create = await fake.next(ofType('actor-create'));
    fake.ws.send(pack([{ type: 'actor-ready', actorId: create.actorId }, { type: 'actor-ready', actorId: create.actorId }]));
    const counter = await created;
    const first = counter.call('add', 1);
    const call = await fake.next(ofType('actor-call'));
    fake.ws.send(pack([
      { type: 'done', id: call.id, value: packValue(41), runMs: 1 },
      { type: 'done', id: call.id, value: packValue(42), runMs: 1 },
      { type: 'failed', id: call.id, kind: 'exception', error: { name: 'E', message: 'late' } },
    ]));
    expect(await first).toBe(41);
    const second = counter.call('add', 2);
    const call2 = await fake.next(ofType('actor-call'));
    fake.ws.send(pack([{ type: 'actor-exited', actorId: create.actorId, constructorFailed: true, error: { name: 'E', message: 'after the fact' } }]));
    fake.ws.send(pack([{ type: 'done', id: call2.id, value: packValue(43), runMs: 1 }, { type: 'actor-ready', actorId: create.actorId }]));
    await expect(second).rejects.toBeInstanceOf(ActorDiedError);
    expect(counter.state).toBe('dead');
    fake.ws.send(POISON);
    expect(describeObserved(await fake.closed)).toMatch(/^4000 .*not valid msgpack/);
  });
});

// ---- the classes every port gets ---------------------------------------------------------------

const before = protocolClasses(rngFor(seed, 'before'), { templates: TEMPLATES, handshakeType: 'hello', maxFrameBytes: MAX_FRAME_BYTES, side: 'client', count: 24 });
const after = protocolClasses(rngFor(seed, 'after'), { templates: TEMPLATES, handshakeType: 'hello', maxFrameBytes: MAX_FRAME_BYTES, side: 'client', count: 24 });
// The agent id is left out of the templates (concurrent cases must not share one): each hostile id once.
before.get('multi-byte strings in every string field')!.push(
  ...Object.entries(MULTIBYTE).map(([name, id]) => ({ name: `hello.agentId = ${name}`, frames: [{ binary: pack([{ ...HELLO, agentId: id }]) }] })),
);

describe('the agent port', () => {
  it('has a template for every field of every agent message', () => {
    expect(missingFields(AgentMessage, TEMPLATES)).toEqual([]);
  });

  describe.each([...before])('before the hello: %s', (cls, specs) => {
    it(`closes each connection with the documented code (${specs.length} cases)`, async () => runCases(cls, false, specs));
  });

  describe.each([...after])('after the hello: %s', (cls, specs) => {
    it(`closes each connection with the documented code (${specs.length} cases)`, async () => runCases(cls, true, specs));
  });

  it('keeps a link open through forged, duplicate and odd valid messages', async () => {
    const rng = rngFor(seed, 'forged');
    const specs = Array.from({ length: 32 }, (_, i) => ({ name: `#${i}`, frames: Array.from({ length: rng.int(1, 3) }, () => ({ binary: pack(forgedBatch(rng)) })) }));
    specs.push({ name: 'a cause chain 300 deep', frames: [{ binary: deepCauseFrame({ ...AGENT_TEMPLATES.failed }, 'error', 300) }] });
    await runCases('forged and duplicate results', true, specs);
  });

  it('refuses a cause chain deep enough to overflow the validator, with 4000', async () => {
    await runCases('deep cause chain', true, [{ name: '2,500 deep', frames: [{ binary: deepCauseFrame({ ...AGENT_TEMPLATES.failed }, 'error', 2_500) }] }]);
  });

  it('handles the messages that come in the hello frame', async () => {
    const m = AGENT_TEMPLATES;
    await runCases('messages in the hello frame', false, [
      { name: 'hello + done + failed + log + pong', frames: [{ binary: pack([HELLO, m.done, m.failed, m.log, m.pong]) }] },
      { name: 'hello + hello', frames: [{ binary: pack([HELLO, HELLO]) }] },
      { name: 'hello + draining', frames: [{ binary: pack([HELLO, m.draining]) }] },
      { name: 'hello + an unknown type', frames: [{ binary: pack([HELLO, { type: 'nope' }]) }] },
    ]);
  });

  it('closes a link that says hello again with 4000 (or 4001 for another version)', async () => {
    await runCases('a second hello', true, [
      { name: 'the same hello', frames: [{ binary: pack([HELLO]) }] },
      { name: 'a hello with a wrong token', frames: [{ binary: pack([{ ...HELLO, token: 'wrong' }]) }] },
      { name: 'a hello of another protocol version', frames: [{ binary: pack([{ ...HELLO, protocol: PROTOCOL_VERSION + 1 }]) }] },
    ]);
  });

  it('shuts a draining link down with 4010, whatever its reason', async () => {
    const reasons = { ascii: 'walltime ends soon', 'ascii×300': 'w'.repeat(300), ...MULTIBYTE };
    await runCases('draining', true, Object.entries(reasons).map(([name, reason]) => ({ name: `reason = ${name}`, frames: [{ binary: pack([{ type: 'draining', reason }]) }] })));
  });

  it('closes a connection that sends nothing with 4004 within about 5 s', { timeout: 15_000 }, async () => {
    const { ws } = await openClient(port.url);
    const expected = { code: CloseCode.authTimeout };
    const observed = await closeOf(ws, 8_000);
    const verdict = { c: { cls: 'silence before the hello', name: 'nothing sent', handshake: false, frames: [] }, expected, observed, ok: judge(expected, observed) };
    tally.add(verdict);
    expect(Tally.failuresOf([verdict], seed)).toEqual([]);
  });

  it('answers TCP peers that never complete the upgrade, and goes on serving', { timeout: 20_000 }, async () => {
    const seen = await Promise.all(RAW_TCP_CASES.map(async (c) => `${c.name}: ${await rawTcp(port.url, c, 1_000)}`));
    expect(seen).toEqual(RAW_TCP_CASES.map((c) => `${c.name}: ${c.expect}`));
    const release = await silentSockets(port.url, 64);
    try {
      const v = await runClientCase(port, { cls: 'a hello while 64 silent sockets are open', name: 'hello', handshake: true, frames: [] }, DEADLINE_MS);
      expect(Tally.failuresOf([v], seed)).toEqual([]);
    } finally {
      release();
    }
  });
});

describe('afterwards', () => {
  it('no link outlives its connection', async () => {
    // Every fuzz connection has closed by now: the pool must hold only the real agent again.
    await waitUntil(async () => (await cluster.agents()).length === 1, { timeoutMs: 3_000, what: 'the fuzz links to leave' }).catch(() => undefined);
    expect((await cluster.agents()).map((a) => `${a.id} (${a.state})`).slice(1), `[seed ${seed}] links still in the pool`).toEqual([]);
  });

  it('the cluster maps correctly on the same agent, which never died', { timeout: 60_000 }, async () => {
    // A link left behind is still offered work: wait for the heartbeat (3 × 5 s) to drop it.
    await waitUntil(async () => (await cluster.agents()).length === 1, { timeoutMs: 20_000, what: 'the fuzz links to leave' });
    expect((await cluster.agents())[0]!.pid).toBe(agentPid);
    const xs = Array.from({ length: 50 }, (_, i) => i);
    expect(await cluster.map((x: number) => x * x, xs, { chunkSize: 7 })).toEqual(xs.map((x) => x * x));
    expect(await cluster.run((s: string) => s.length, '€'.repeat(64))).toBe(64);
  });
});

/** Valid agent messages a hostile agent may send: results for tasks it never got, twice, odd numbers. */
function forgedBatch(rng: Rng): Record<string, unknown>[] {
  const ids = ['t1', 't1', '€'.repeat(64), 'x'.repeat(128), randomString(rng, 8) || 'e', 'actor-0000000000'];
  const num = (): number => rng.pick([0, -0, 1, 2 ** 31, 2 ** 53 - 1, 1e308, 5e-324, Date.now(), -1e308]);
  const nonNegative = (): number => Math.abs(num());
  const error = { name: randomString(rng, 6), message: randomString(rng, 20), stack: randomString(rng, 30), code: randomString(rng, 4) };
  const make = (): Record<string, unknown> => {
    switch (rng.int(0, 7)) {
      case 0:
        return { type: 'done', id: rng.pick(ids), value: rng.bool() ? packValue(rng.next()) : rng.bytes(rng.int(0, 16)), runMs: nonNegative() };
      case 1:
        return { type: 'failed', id: rng.pick(ids), kind: rng.pick(['exception', 'timeout', 'cancelled', 'setup', 'actor-died']), error };
      case 2:
        return { type: 'log', id: rng.bool() ? null : rng.pick(ids), stream: rng.pick(['stdout', 'stderr']), text: randomString(rng, 200) };
      case 3:
        return { type: 'pong', t: num(), rssBytes: nonNegative(), running: rng.int(0, 2 ** 31), peerBytesIn: rng.int(0, 2 ** 31), peerBytesOut: rng.int(0, 2 ** 31) };
      case 4:
        return { type: 'actor-ready', actorId: rng.pick(ids) };
      case 5:
        return { type: 'actor-exited', actorId: rng.pick(ids), constructorFailed: rng.bool(), error };
      case 6:
        return { type: 'actor-request', id: rng.pick(ids), actorId: rng.pick(ids), method: rng.pick(['add', 'constructor', '__proto__', 'then', '€']), args: rng.bool() ? packValue([1]) : rng.bytes(4) };
      default:
        return { ...AGENT_TEMPLATES.done, id: 't1' };
    }
  };
  const batch = Array.from({ length: rng.int(1, 8) }, make).filter((m) => AgentMessage.safeParse(m).success);
  return batch.length > 0 ? batch : [{ ...AGENT_TEMPLATES.done }];
}
