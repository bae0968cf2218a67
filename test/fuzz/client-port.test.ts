// Fuzzing the service's client port (coordinator/service/: the endpoint `Cluster.connect()` dials)
// with a real service holding a real agent, in this process. Every hostile connection must be
// closed with the code the protocol documents for its input, nothing may throw uncaught here,
// and a real client must still map correctly on the same agent afterwards. Requests that stop the
// service or resize its pool are valid and honoured, so the fuzzer never sends them (but `scale`
// to the size it has).
// Seeded: CLUSTRIX_FUZZ_SEED=<n> replays a run (the seed is printed, and named in every failure).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { Cluster } from 'clustrix';
import { ClientMessage, CloseCode, CoreMethods, decodeServiceFrame, DEFAULT_MAX_FRAME_BYTES, packValue, PROTOCOL_VERSION, ServiceMethods, type ServiceMessage } from 'clustrix/protocol';
// Built, not source: the service starts agents from the bundle next to its own compiled file.
import { ClusterService } from '../../dist/coordinator/service/index.js';
import type { Logger } from '../../dist/coordinator/util/logger.js';
import { waitUntil } from '../helpers/processes.js';
import { protocolClasses, type CaseSpec } from './classes.js';
import { CLIENT_TEMPLATES, fuzzSeed, missingFields, MULTIBYTE, pack, randomString, REQUEST_TEMPLATES, rngFor, type Rng } from './generators.js';
import { POISON, type Frame, type Message, type ProtocolModel } from './model.js';
import { closeOf, CrashGuard, describeObserved, judge, ofType, openClient, openPeer, runClass, runClientCase, Tally, type ClientPort, type FuzzCase, type Peer } from './probe.js';
import { RAW_TCP_CASES, rawTcp, silentSockets } from './raw-tcp.js';

const seed = fuzzSeed();
const DEADLINE_MS = 2_000;
const CONCURRENCY = 16;

/** Filled in once the service runs: the credential is made at start. */
const CREDENTIAL = { value: '' };
const hello = (): Message => ({ ...CLIENT_TEMPLATES['client-hello'], credential: CREDENTIAL.value });

/** coordinator/service/session.ts, as rules. */
const model: ProtocolModel = {
  schema: ClientMessage,
  handshakeTypes: new Set(['client-hello', 'client-welcome']),
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  step(authed, m) {
    if (!authed) {
      if (m.type !== 'client-hello' || m.credential !== CREDENTIAL.value) return { code: CloseCode.authFailed, reason: /wrong credential/ };
      return 'authed';
    }
    if (m.type === 'client-hello') return { code: CloseCode.protocolError, reason: /second client-hello/ };
    return 'continue';
  },
};

const guard = new CrashGuard();
const tally = new Tally(seed);
const quiet: Logger = { error: () => undefined, warn: () => undefined, info: () => undefined, debug: () => undefined, enabled: () => false };
let service: ClusterService;
let agentPid = 0;
let cacheDir = '';
const env = { log: process.env.CLUSTRIX_LOG, cache: process.env.CLUSTRIX_CACHE_DIR };
const port: ClientPort = {
  url: '',
  model,
  handshake: () => pack([hello()]),
  accepted: (data) => decodeServiceFrame(data, DEFAULT_MAX_FRAME_BYTES)[0]?.type === 'client-welcome',
};
const peers: WebSocket[] = [];

beforeAll(async () => {
  console.info(`client-port fuzz: seed ${seed} (replay with CLUSTRIX_FUZZ_SEED=${seed})`);
  guard.install();
  process.env.CLUSTRIX_LOG = 'error';
  cacheDir = mkdtempSync(join(os.tmpdir(), 'clustrix-fuzz-'));
  process.env.CLUSTRIX_CACHE_DIR = cacheDir;
  service = await ClusterService.start({ profile: 'fuzz', cluster: { agents: 1, slots: 2 }, writeStateFile: false, log: quiet });
  CREDENTIAL.value = service.credential;
  port.url = service.address;
  agentPid = service.status().agents[0]!.pid;
});

afterEach(() => {
  for (const ws of peers.splice(0)) ws.terminate();
  expect(guard.take().join('\n---\n'), `[seed ${seed}] uncaught in the service's process`).toBe('');
});

afterAll(async () => {
  console.info(tally.table());
  await service?.stop('fuzz suite done');
  guard.uninstall();
  for (const [key, value] of [['CLUSTRIX_LOG', env.log], ['CLUSTRIX_CACHE_DIR', env.cache]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
});

const envelope = new Packr({ useRecords: false, mapsAsObjects: true });

/** True when a frame carries a valid `stop`, a `scale` to another size than the pool's, or an `adapt` of it: the fuzzer must not send those. */
function reshapesTheService(frames: readonly Frame[]): boolean {
  return frames.some((f) => {
    if (!('binary' in f)) return false;
    let raw: unknown;
    try {
      raw = envelope.unpack(f.binary);
    } catch {
      return false;
    }
    if (!Array.isArray(raw)) return false;
    return raw.some((m: unknown) => {
      const parsed = ClientMessage.safeParse(m);
      if (!parsed.success || parsed.data.type !== 'request') return false;
      const { method, args } = parsed.data;
      const adapts = method === 'adapt' && (args[0] as { pool?: unknown } | undefined)?.pool !== 'no-such-pool';
      return method === 'stop' || adapts || (method === 'scale' && (args[0] !== 1 || (args[1] as { pool?: unknown } | undefined)?.pool !== undefined));
    });
  });
}

async function runCases(cls: string, handshake: boolean, specs: readonly CaseSpec[]): Promise<void> {
  const cases: FuzzCase[] = specs
    .filter((s) => !reshapesTheService(s.frames))
    .map((s) => ({ cls: `${cls}, ${handshake ? 'after' : 'before'} the client-hello`, name: s.name, handshake, frames: s.frames }));
  const verdicts = await runClass(port, tally, cases, { concurrency: CONCURRENCY, deadlineMs: DEADLINE_MS });
  expect(Tally.failuresOf(verdicts, seed)).toEqual([]);
}

// The credential is made when the service starts: each test builds its class then (the same
// cases every time, from the same seed and label); only the class names are needed up front.
function classes(label: string): Map<string, CaseSpec[]> {
  return protocolClasses(rngFor(seed, label), { templates: { ...CLIENT_TEMPLATES, 'client-hello': hello() }, handshakeType: 'client-hello', maxFrameBytes: DEFAULT_MAX_FRAME_BYTES, side: 'client', count: 24 });
}
const CLASS_NAMES = [...classes('names').keys()];

describe('the client port', () => {
  it('has a template for every field of every client message, and a request for every method', () => {
    expect(missingFields(ClientMessage, CLIENT_TEMPLATES)).toEqual([]);
    expect(Object.keys(REQUEST_TEMPLATES).sort()).toEqual(Object.keys(ServiceMethods).sort());
    for (const [method, t] of Object.entries(REQUEST_TEMPLATES)) {
      const m = t as { args: unknown[] };
      expect(ServiceMethods[method as keyof typeof ServiceMethods].args.safeParse(m.args).success, method).toBe(true);
    }
  });

  describe.each(CLASS_NAMES)('before the client-hello: %s', (cls) => {
    it('closes each connection with the documented code', async () => runCases(cls, false, classes('before').get(cls)!));
  });

  describe.each(CLASS_NAMES)('after the client-hello: %s', (cls) => {
    it('closes each connection with the documented code', async () => runCases(cls, true, classes('after').get(cls)!));
  });

  it('keeps a session open through valid requests for things that do not exist, junk code and junk arguments', async () => {
    const rng = rngFor(seed, 'hostile');
    const specs = Array.from({ length: 32 }, (_, i) => ({ name: `#${i}`, frames: [{ binary: pack([...codes(rng), ...Array.from({ length: rng.int(1, 10) }, () => hostileRequest(rng))]) }] }));
    await runCases('valid requests, hostile content', true, specs);
  });

  it('handles the messages that come in the client-hello frame', async () => {
    const m = REQUEST_TEMPLATES;
    await runCases('messages in the client-hello frame', false, [
      { name: 'client-hello + status + actorList', frames: [{ binary: pack([hello(), m.status!, m.actorList!]) }] },
      { name: 'client-hello + client-hello', frames: [{ binary: pack([hello(), hello()]) }] },
      { name: 'status + client-hello', frames: [{ binary: pack([m.status!, hello()]) }] },
      { name: 'client-hello + an unknown type', frames: [{ binary: pack([hello(), { type: 'nope' }]) }] },
    ]);
  });

  it('closes a session that says client-hello again with 4000 (or 4001 for another version)', async () => {
    await runCases('a second client-hello', true, [
      { name: 'the same client-hello', frames: [{ binary: pack([hello()]) }] },
      { name: 'a client-hello with a wrong credential', frames: [{ binary: pack([{ ...hello(), credential: 'wrong' }]) }] },
      { name: 'a client-hello of another protocol version', frames: [{ binary: pack([{ ...hello(), protocol: PROTOCOL_VERSION + 1 }]) }] },
    ]);
  });

  it('refuses every request before the client-hello with 4003', async () => {
    const before = [CLIENT_TEMPLATES.code, ...Object.values(REQUEST_TEMPLATES)];
    await runCases('requests before the client-hello', false, before.map((t) => ({ name: t.type === 'request' ? t.method : t.type, frames: [{ binary: pack([t]) }] })));
  });

  it('closes a connection that sends nothing with 4004 within about 5 s', { timeout: 15_000 }, async () => {
    const { ws } = await openClient(port.url);
    const expected = { code: CloseCode.authTimeout };
    const observed = await closeOf(ws, 8_000);
    const verdict = { c: { cls: 'silence before the client-hello', name: 'nothing sent', handshake: false, frames: [] }, expected, observed, ok: judge(expected, observed) };
    tally.add(verdict);
    expect(Tally.failuresOf([verdict], seed)).toEqual([]);
  });

  it('answers TCP peers that never complete the upgrade, and goes on serving', { timeout: 20_000 }, async () => {
    const seen = await Promise.all(RAW_TCP_CASES.map(async (c) => `${c.name}: ${await rawTcp(port.url, c, 1_000)}`));
    expect(seen).toEqual(RAW_TCP_CASES.map((c) => `${c.name}: ${c.expect}`));
    const release = await silentSockets(port.url, 64);
    try {
      const v = await runClientCase(port, { cls: 'a client-hello while 64 silent sockets are open', name: 'client-hello', handshake: true, frames: [] }, DEADLINE_MS);
      expect(Tally.failuresOf([v], seed)).toEqual([]);
    } finally {
      release();
    }
  });
});

// ---- a real actor, called by a hostile client --------------------------------------------------

async function hostileClient(): Promise<Peer<ServiceMessage>> {
  const peer = await openPeer(port.url, (d) => decodeServiceFrame(d, DEFAULT_MAX_FRAME_BYTES));
  peers.push(peer.ws);
  peer.ws.send(pack([hello()]));
  await peer.next(ofType('client-welcome'));
  return peer;
}

type Answer = Extract<ServiceMessage, { type: 'response' }>;
const answerTo = (id: string) => (m: ServiceMessage): m is Answer => m.type === 'response' && m.id === id;

describe('a real actor, called by a hostile client', () => {
  it('answers every call (odd method names, junk arguments, after kill) and keeps the session open', async () => {
    const peer = await hostileClient();
    const spec = (REQUEST_TEMPLATES.actorCreate as unknown as { args: [Record<string, unknown>] }).args[0];
    peer.ws.send(pack([
      { type: 'code', hash: 'fz-class', kind: 'function', source: 'class FzActor { m(x) { return x; } }', name: 'FzActor' },
      { type: 'request', id: 'create', method: 'actorCreate', args: [{ ...spec, code: 'fz-class', export: null, name: null, agent: null }] },
    ]));
    const created = await peer.next(answerTo('create'));
    if (!created.ok) throw new Error(`actorCreate failed: ${created.error.message}`);
    const actorId = (created.value as { id: string }).id;
    const calls: [string, Uint8Array][] = [
      ['m', packValue([42])], ['m', Buffer.from([0x92, 0xc0])], ['m', packValue(7)], ['constructor', packValue([])], ['__proto__', packValue([])],
      ['toString', packValue([])], ['then', packValue([])], ['€'.repeat(64), packValue([])], ['hasOwnProperty', packValue(['m'])],
    ];
    peer.ws.send(pack(calls.map(([method, args], i) => ({ type: 'request', id: `call-${i}`, method: 'actorCall', args: [actorId, method, args, [], []] }))));
    const answers = await Promise.all(calls.map((_, i) => peer.next(answerTo(`call-${i}`))));
    expect(answers[0]).toMatchObject({ type: 'response', ok: true });
    expect(answers.every((a) => a.type === 'response')).toBe(true);

    const kill = (id: string) => ({ type: 'request', id, method: 'actorKill', args: [actorId] });
    peer.ws.send(pack([kill('kill-1'), kill('kill-2'), { type: 'request', id: 'late', method: 'actorCall', args: [actorId, 'm', packValue([1]), [], []] }]));
    expect(await peer.next(answerTo('late'))).toMatchObject({ type: 'response', ok: false, error: { code: 'ACTOR_DIED' } });
    peer.ws.send(POISON);
    expect(describeObserved(await peer.closed)).toMatch(/^4000 .*not valid msgpack/);
  });
});

describe('afterwards', () => {
  it('no session outlives its connection', async () => {
    // Every fuzz connection has closed by now: the service must have forgotten each.
    await waitUntil(() => service.sessions.size === 0, { timeoutMs: 3_000, what: 'the fuzz sessions to leave' }).catch(() => undefined);
    expect([...service.sessions].map((x) => `${x.id} (${x.name})`), `[seed ${seed}] sessions still registered`).toEqual([]);
  });

  it('a real client maps correctly on the same agent, which never died', async () => {
    expect(service.status().agents.map((a) => a.pid)).toEqual([agentPid]);
    const client = await Cluster.connect({ address: service.address, credential: service.credential });
    try {
      const xs = Array.from({ length: 50 }, (_, i) => i);
      expect(await client.map((x: number) => x * x, xs, { chunkSize: 7 })).toEqual(xs.map((x) => x * x));
      expect(await client.run((s: string) => s.length, '€'.repeat(64))).toBe(64);
    } finally {
      await client.close();
    }
  });
});

// ---- generators of this protocol's hostile but valid requests ----------------------------------

const HASHES = ['fz-fn', 'fz-class', 'fz-junk', 'fz-mod', 'never-sent', '€'.repeat(64)];

/** The code a hostile batch refers to: a real function and class, junk source, a junk module. */
function codes(rng: Rng): Message[] {
  return [
    { type: 'code', hash: 'fz-fn', kind: 'function', source: '(...a) => a.length', name: 'count' },
    { type: 'code', hash: 'fz-class', kind: 'function', source: 'class FzActor { m(x) { return x; } }', name: 'FzActor' },
    { type: 'code', hash: 'fz-junk', kind: 'function', source: randomString(rng, 30), name: randomString(rng, 10) },
    { type: 'code', hash: 'fz-mod', kind: 'module', source: randomString(rng, 30), name: 'mod' },
    { type: 'code', hash: '€'.repeat(64), kind: rng.pick(['function', 'module']), source: MULTIBYTE['euro×64']!, name: '€' },
  ];
}

/** A request whose content is hostile: unknown ids and methods, junk arguments, odd options. Never stop, never resize. */
function hostileRequest(rng: Rng): Message {
  const id = rng.pick(['r1', 'r1', '€'.repeat(64), 'x'.repeat(128), randomString(rng, 6) || 'r']);
  const args = (): Uint8Array => rng.pick([packValue([1, 2]), packValue(5), packValue([[1], [2]]), rng.bytes(rng.int(0, 12)), packValue(['€'.repeat(64)])]);
  const task = {
    id, code: rng.pick(HASHES), export: rng.pick([null, 'default', randomString(rng, 5)]), args: args(), inline: rng.bool(),
    timeoutMs: rng.pick([null, 1, 50, 2 ** 31 - 1, 2 ** 40, Number.MAX_SAFE_INTEGER]), retries: rng.int(0, 3), retryExceptions: rng.int(0, 2),
    refs: rng.pick([[], [], ['no-such-object'], ['fz-put-1']]), keep: null,
    priority: rng.pick([0, 5, -1, 1e308]), weight: rng.pick([1, 0.5, 1e6]), group: rng.pick([null, 'g1']), resources: rng.pick([null, {}, { gpus: 1 }, { cpus: 1e9 }]),
  };
  const junkCode = rng.pick(['fz-junk', 'fz-mod', 'never-sent']);
  const request = (method: string, list: unknown[]): Message => ({ type: 'request', id, method, args: list });
  switch (rng.int(0, 17)) {
    case 0:
      return request('submit', [{ ...task, chunk: rng.bool() }]);
    case 1: {
      const { id: _id, ...spec } = task;
      return request('broadcast', [spec]);
    }
    case 2:
      return request('cancel', [id]);
    case 3:
      return request('status', []);
    case 4:
      return request('scale', [1, {}]);
    case 5:
      return request('followLogs', [rng.pick([null, randomString(rng, 8)])]);
    case 6: {
      // The real class only unnamed (it dies with the session); named actors only of junk code
      // (their constructor fails): a named live actor would hold a slot after the fuzzer left.
      const real = rng.bool();
      return request('actorCreate', [{
        code: real ? 'fz-class' : junkCode, export: rng.pick([null, 'FzActor', randomString(rng, 4)]), args: args(),
        name: real ? null : rng.pick([null, `fz-${randomString(rng, 6)}`, '€'.repeat(64)]), maxRestarts: rng.int(0, 2), maxConcurrency: rng.int(1, 4),
        agent: rng.pick([null, null, randomString(rng, 6) || 'a']), getIfExists: rng.bool(), timeoutMs: rng.pick([null, 1, 100]),
        resources: rng.pick([{}, { cpus: 0 }, { cpus: 1e9 }, { gpus: -1 }]),
      }]);
    }
    case 7:
      return request('actorCall', [rng.pick(['actor-nope', '€'.repeat(64)]), rng.pick(['m', 'constructor', '€']), args(), rng.pick([[], ['fz-put-1'], ['no-such-object']])]);
    case 8:
      return request('actorKill', [rng.pick(['actor-nope', '€'.repeat(64)])]);
    case 9:
      return request('actorGet', [rng.pick(['fz-x', '€'.repeat(64), randomString(rng, 6) || 'n'])]);
    case 10:
      return request('actorList', []);
    case 11:
      // Unknown methods and wrong argument lists answer that request with an error.
      return request(rng.pick(['nope', '€'.repeat(64), '__proto__', 'constructor', 'toString', 'hasOwnProperty']), [rng.next()]);
    case 12: {
      const method = rng.pick(Object.keys(CoreMethods));
      return request(method, rng.pick([[], [rng.next()], [randomString(rng, 4), 1, 2, 3], [null]]));
    }
    case 13:
      return request('put', [rng.pick(['fz-put-1', 'fz-put-2', randomString(rng, 6) || 'p']), args(), rng.pick([[], ['fz-put-1'], ['no-such-object']])]);
    case 14:
      return request('submitRef', [{ ...task, chunk: false, keep: rng.pick(['fz-ref-1', 'fz-put-1', randomString(rng, 6) || 'k']) }]);
    case 15:
      return request(rng.pick(['objectGet', 'objectFree', 'objectStats']), rng.pick([['fz-put-1'], [['fz-put-1', 'fz-ref-1']], ['no-such-object'], []]));
    case 16:
      return request('objectWait', [rng.pick([['fz-ref-1'], ['fz-put-1', 'no-such-object']]), rng.int(1, 3), rng.pick([0, 5, 50, null])]);
    default:
      return request('submit', [{ ...task, code: 'fz-fn', args: packValue([1, 2, 3]), chunk: false }]);
  }
}
