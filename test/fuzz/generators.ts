/**
 * Inputs for the fuzz suite: a seeded PRNG, hostile strings and bytes, msgpack built token by
 * token, and one valid template per message type of each protocol direction (so every string
 * field of every message can be swapped for a hostile one). Everything derives from one seed:
 * `CLUSTRIX_FUZZ_SEED=<n>` replays a run.
 */
import { Packr } from 'msgpackr';
import { packValue, PROTOCOL_VERSION, type AgentMessage, type ClientMessage, type CoordinatorMessage } from 'clustrix/protocol';

// ---- randomness ------------------------------------------------------------------------------

/** mulberry32: 32 bits of state, good enough to pick inputs, and the same sequence everywhere. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The run's seed: `CLUSTRIX_FUZZ_SEED` (decimal or 0x hex) when set, else a fresh one. */
export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.CLUSTRIX_FUZZ_SEED;
  if (raw !== undefined && raw !== '') {
    const n = Number(raw);
    if (!Number.isInteger(n)) throw new Error(`CLUSTRIX_FUZZ_SEED must be an integer, got ${JSON.stringify(raw)}`);
    return n >>> 0;
  }
  return Math.floor(Math.random() * 4_294_967_296) >>> 0;
}

export interface Rng {
  /** [0, 1) */
  next(): number;
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number;
  bool(p?: number): boolean;
  pick<T>(items: readonly T[]): T;
  bytes(n: number): Buffer;
}

/**
 * A generator of its own for each test (seed mixed with the test's label), so one test replays
 * the same inputs whether it runs alone or after the others.
 */
export function rngFor(seed: number, label: string): Rng {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  const next = mulberry32(h >>> 0);
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    int,
    bool: (p = 0.5) => next() < p,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(0, items.length - 1)]!;
    },
    bytes: (n) => {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i++) out[i] = int(0, 255);
      return out;
    },
  };
}

// ---- strings ---------------------------------------------------------------------------------

/**
 * Strings whose UTF-8 form is longer than their length in characters, or that are not valid
 * Unicode at all. A close reason is limited to 123 bytes: cutting such a string by characters is
 * not enough.
 */
export const MULTIBYTE: Readonly<Record<string, string>> = {
  'euro×64': '€'.repeat(64),
  'emoji×40': '😀'.repeat(40),
  'lone high surrogates': '\uD800'.repeat(48),
  'lone low surrogates': 'x\uDFFF'.repeat(30),
  'mixed scripts': 'ü日本語€😀'.repeat(10),
  'combining marks': 'e\u0301'.repeat(60),
  'controls, NUL, bidi override': '\u0000\u0007\u001b[31m\u202e\uFEFF'.repeat(12),
  'one euro': '€',
  'cjk×200': '語'.repeat(200),
};
export const MULTIBYTE_NAMES: readonly string[] = Object.keys(MULTIBYTE);

const PIECES = ['a', 'Z', '0', ' ', '-', '.', '..', '%s', '${x}', '\\', '"', "'", '\n', '\r', '\t', '\u0000', '€', 'ü', '語', '😀', '\uD800', '\uDFFF', '\u202e', '\uFEFF', 'e\u0301'];

/**
 * A random string of hostile pieces. Never a '/': module code hashes become file names on the
 * agent (see agent/task-code.ts), and the fuzzer must not write files outside its cache dir.
 */
export function randomString(rng: Rng, maxPieces = 40): string {
  let s = '';
  const n = rng.int(0, maxPieces);
  for (let i = 0; i < n; i++) s += rng.pick(PIECES);
  return s;
}

// ---- bytes and msgpack -----------------------------------------------------------------------

/** Plain msgpack of any value, bypassing the typed encoders (as a hostile peer would). */
const raw = new Packr({ useRecords: false, mapsAsObjects: true });
export function pack(value: unknown): Buffer {
  return raw.pack(value);
}

/** Cuts of a valid frame: the empty frame, each short prefix, and random ones. */
export function truncations(frame: Buffer, rng: Rng, count: number): Buffer[] {
  const cuts = new Set<number>([0, 1, 2, frame.length - 1]);
  while (cuts.size < Math.min(count, frame.length)) cuts.add(rng.int(0, frame.length - 1));
  return [...cuts].filter((c) => c >= 0 && c < frame.length).map((c) => frame.subarray(0, c));
}

/** Extension types msgpackr knows (structured clone, records, actor refs) and some it does not. */
const EXT_TYPES = [0x00, 0x01, 0x42, 0x61, 0x62, 0x65, 0x69, 0x6d, 0x70, 0x72, 0x73, 0x74, 0x75, 0x78, 0x7f, 0xff, 0xfe];

/**
 * One msgpack value built token by token: non-canonical integer widths, NaN and infinities, str
 * of invalid UTF-8, bin, maps with non-string keys, extension types, nesting.
 */
export function randomMsgpack(rng: Rng, depth = 3): Buffer {
  const kind = rng.int(0, depth > 0 ? 15 : 11);
  const be = (bytes: number, value: bigint): Buffer => {
    const b = Buffer.alloc(bytes);
    for (let i = bytes - 1; i >= 0; i--) {
      b[i] = Number(value & 0xffn);
      value >>= 8n;
    }
    return b;
  };
  switch (kind) {
    case 0:
      return Buffer.from([rng.pick([0xc0, 0xc2, 0xc3, 0xc1])]); // nil, false, true, never-used
    case 1:
      return Buffer.from([rng.int(0, 0x7f)]);
    case 2:
      return Buffer.from([rng.int(0xe0, 0xff)]);
    case 3: {
      const [tag, width] = rng.pick([[0xcc, 1], [0xcd, 2], [0xce, 4], [0xcf, 8], [0xd0, 1], [0xd1, 2], [0xd2, 4], [0xd3, 8]] as const);
      return Buffer.concat([Buffer.from([tag]), rng.bytes(width)]);
    }
    case 4: {
      const f = Buffer.alloc(9);
      f[0] = 0xcb;
      f.writeDoubleBE(rng.pick([NaN, Infinity, -Infinity, -0, 1e308, 5e-324, 2 ** 53 + 1, -1]), 1);
      return f;
    }
    case 5: {
      const s = Buffer.from(randomString(rng, 20));
      return Buffer.concat([Buffer.from([0xd9, Math.min(s.length, 255)]), s.subarray(0, 255)]);
    }
    case 6: {
      const junk = rng.bytes(rng.int(0, 31)); // str of arbitrary bytes: invalid UTF-8 mostly
      return Buffer.concat([Buffer.from([0xa0 | junk.length]), junk]);
    }
    case 7: {
      const junk = rng.bytes(rng.int(0, 40));
      return Buffer.concat([Buffer.from([0xc4, junk.length]), junk]);
    }
    case 8: {
      const size = rng.pick([1, 2, 4, 8, 16]);
      const tag = { 1: 0xd4, 2: 0xd5, 4: 0xd6, 8: 0xd7, 16: 0xd8 }[size]!;
      return Buffer.concat([Buffer.from([tag, rng.pick(EXT_TYPES)]), rng.bytes(size)]);
    }
    case 9: {
      // ext 8 whose payload is itself msgpack: what a structured-clone extension expects to read
      const inner = randomMsgpack(rng, 1);
      return Buffer.concat([Buffer.from([0xc7, Math.min(inner.length, 255), rng.pick(EXT_TYPES)]), inner.subarray(0, 255)]);
    }
    case 10:
      return Buffer.concat([Buffer.from([0xa4]), Buffer.from('type')]);
    case 11:
      return pack(rng.pick(['hello', 'welcome', 'client-hello', 'done', 'ping', 'task', 'submit', '__proto__', 'constructor']));
    case 12:
    case 13: {
      const n = rng.int(0, 6);
      const items = Array.from({ length: n }, () => randomMsgpack(rng, depth - 1));
      return Buffer.concat([n < 16 && rng.bool(0.8) ? Buffer.from([0x90 | n]) : Buffer.concat([Buffer.from([0xdc]), be(2, BigInt(n))]), ...items]);
    }
    default: {
      const n = rng.int(0, 5);
      const parts: Buffer[] = [Buffer.from([0x80 | n])];
      for (let i = 0; i < n; i++) {
        parts.push(rng.bool(0.7) ? pack(rng.pick(['type', 'id', 'protocol', 'token', 'value', 'error', 'cause', '__proto__', randomString(rng, 4)])) : randomMsgpack(rng, 0));
        parts.push(randomMsgpack(rng, depth - 1));
      }
      return Buffer.concat(parts);
    }
  }
}

/** A frame that is one msgpack array of `count` random values (the envelope, with junk messages). */
export function randomMsgpackFrame(rng: Rng, count = rng.int(1, 4)): Buffer {
  return Buffer.concat([Buffer.from([0x90 | count]), ...Array.from({ length: count }, () => randomMsgpack(rng))]);
}

/** Nested arrays `depth` deep (0x91 … 0xc0): overflows any recursive decoder or validator. */
export function deepArray(depth: number): Buffer {
  return Buffer.concat([Buffer.alloc(depth, 0x91), Buffer.from([0xc0])]);
}

// ---- message templates -----------------------------------------------------------------------

type Templates<M extends { type: string }> = { [K in M['type']]: Extract<M, { type: K }> };

const errorInfo = { name: 'Error', message: 'boom', stack: 'Error: boom\n    at x', code: 'E_X', cause: { name: 'Cause', message: 'inner', stack: 's', code: 'E_Y' } };

/** One valid message of each type an agent sends (every optional string field filled in). */
export const AGENT_TEMPLATES: Templates<AgentMessage> = {
  hello: {
    type: 'hello', protocol: PROTOCOL_VERSION, token: 'template-token', agentId: 'fz-agent', jobId: 'job-1', host: 'host', pid: 1, cpus: 1,
    memoryBytes: 1024, node: 'v20.0.0', slots: 1, inlineConcurrency: 1, walltimeLeftMs: null, resources: { cpus: 1, gpus: 1, licenses: 2 },
    features: ['park'],
  },
  done: { type: 'done', id: 'no-such-task', value: packValue(1), runMs: 1, refs: ['no-such-ref'] },
  failed: { type: 'failed', id: 'no-such-task', kind: 'exception', error: errorInfo },
  withdrawn: { type: 'withdrawn', id: 'no-such-task' },
  log: { type: 'log', id: 'no-such-task', stream: 'stdout', text: 'line' },
  pong: { type: 'pong', t: 1, rssBytes: 1, running: 0, peerBytesIn: 0, peerBytesOut: 0 },
  draining: { type: 'draining', reason: 'walltime' },
  'actor-ready': { type: 'actor-ready', actorId: 'no-such-actor' },
  'actor-exited': { type: 'actor-exited', actorId: 'no-such-actor', constructorFailed: false, error: errorInfo },
  'actor-request': { type: 'actor-request', id: 'req-1', actorId: 'no-such-actor', method: 'm', args: packValue([]), refs: ['no-such-ref'], lazy: ['no-such-ref'] },
  'actor-checkpoint': { type: 'actor-checkpoint', actorId: 'no-such-actor', calls: 1, state: packValue({}) },
  kept: { type: 'kept', id: 'no-such-task', objectId: 'no-such-object', size: 1, value: packValue(1), refs: ['no-such-ref'], runMs: 1 },
  'object-data': { type: 'object-data', id: 'no-such-get', objectId: 'no-such-object', bytes: null, error: 'not held' },
  'object-request': { type: 'object-request', id: 'req-2', objectId: 'no-such-object' },
  'object-copied': { type: 'object-copied', objectId: 'no-such-object' },
  'object-peer': { type: 'object-peer', address: '127.0.0.1:1' },
};

/** One valid message of each type a coordinator sends. */
export const COORDINATOR_TEMPLATES: Templates<CoordinatorMessage> = {
  welcome: { type: 'welcome', protocol: PROTOCOL_VERSION, agentId: 'fz-agent', heartbeatMs: 60_000, objectStoreBytes: 1024 * 1024, objectSpillBytes: 1024 * 1024 },
  code: { type: 'code', hash: 'fz-template-code', kind: 'function', source: '(x) => x' },
  task: { type: 'task', id: 'fz-task', code: 'no-such-code', export: 'default', args: packValue([1]), inline: false, chunk: false, timeoutMs: null, express: true, gpus: 1, keep: null, deps: [], parked: true },
  cancel: { type: 'cancel', id: 'no-such-task' },
  withdraw: { type: 'withdraw', id: 'no-such-task' },
  ping: { type: 'ping', t: 1 },
  shutdown: { type: 'shutdown', reason: 'bye' },
  'actor-create': { type: 'actor-create', actorId: 'fz-actor', code: 'no-such-code', export: 'A', args: packValue([]), maxConcurrency: 1, checkpointEvery: 2, checkpointMs: 1000, restore: { state: packValue({ n: 1 }), calls: 2 }, deps: [] },
  'actor-call': { type: 'actor-call', id: 'fz-call', actorId: 'no-such-actor', method: 'm', args: packValue([]), timeoutMs: null, deps: [] },
  'actor-kill': { type: 'actor-kill', actorId: 'no-such-actor' },
  'actor-reply': { type: 'actor-reply', id: 'no-such-request', value: null, error: errorInfo },
  'object-put': { type: 'object-put', objectId: 'fz-object', bytes: packValue(1) },
  'object-get': { type: 'object-get', id: 'fz-get', objectId: 'no-such-object' },
  'object-free': { type: 'object-free', objectIds: ['no-such-object'] },
  'object-reply': { type: 'object-reply', id: 'no-such-request', objectId: 'no-such-object', bytes: null, error: 'gone' },
};

/** One valid message of each type a client sends to a service (the envelope: hello, code, request). */
export const CLIENT_TEMPLATES: Templates<ClientMessage> = {
  'client-hello': { type: 'client-hello', protocol: PROTOCOL_VERSION, credential: 'template-credential', name: 'fuzz' },
  code: { type: 'code', hash: 'fz-template-code', kind: 'function', source: '(x) => x', name: 'identity' },
  request: { type: 'request', id: 'fz-agents', method: 'agents', args: [] },
  submits: {
    type: 'submits',
    base: { code: 'no-such-code', export: 'default', inline: false, chunk: false, timeoutMs: null, refs: [], keep: null, retries: 0, retryExceptions: 0, priority: 0, weight: 1, group: 'fz-group', resources: null, pool: null, call: { id: 'fz-call', label: 'fz' } },
    ids: ['fz-submits-1', 'fz-submits-2'],
    tasks: ['fz-task-1', 'fz-task-2'],
    args: [packValue([1]), packValue([2])],
  },
};

const taskSpec = { id: 'fz-task', code: 'no-such-code', export: 'default', args: packValue([1]), inline: false, chunk: false, timeoutMs: null, refs: [], keep: null, retries: 0, retryExceptions: 0, priority: 0, weight: 1, group: null, resources: null };
const actorSpec = { code: 'no-such-code', export: 'A', args: packValue([]), maxConcurrency: 1, checkpointEvery: null, checkpointMs: null, name: 'fz-named', maxRestarts: 0, agent: 'no-such-agent', getIfExists: false, timeoutMs: null, resources: {} };

/**
 * One valid request of each method a client may call (`stop` is valid: the fuzzer must not send
 * it; `scale` only to the pool's own size; `adapt` only of a pool that does not exist).
 */
export const REQUEST_TEMPLATES: Record<string, ClientMessage> = {
  submit: { type: 'request', id: 'fz-submit', method: 'submit', args: [taskSpec] },
  cancel: { type: 'request', id: 'fz-cancel', method: 'cancel', args: ['no-such-task'] },
  broadcast: { type: 'request', id: 'fz-bcast', method: 'broadcast', args: [{ code: 'no-such-code', export: 'default', args: packValue([1]), refs: ['no-such-object'], inline: false, timeoutMs: null, retries: 0, retryExceptions: 0 }] },
  agents: { type: 'request', id: 'fz-agents', method: 'agents', args: [] },
  pendingAgents: { type: 'request', id: 'fz-pending', method: 'pendingAgents', args: [] },
  scale: { type: 'request', id: 'fz-scale', method: 'scale', args: [1, {}] },
  // A pool that does not exist: a valid adapt of the pool would resize it under the fuzzer.
  adapt: { type: 'request', id: 'fz-adapt', method: 'adapt', args: [{ pool: 'no-such-pool', min: 0, max: 1, idleMs: 1000 }] },
  actorCreate: { type: 'request', id: 'fz-actor-create', method: 'actorCreate', args: [actorSpec] },
  actorCall: { type: 'request', id: 'fz-call', method: 'actorCall', args: ['no-such-actor', 'm', packValue([]), [], []] },
  actorKill: { type: 'request', id: 'fz-kill', method: 'actorKill', args: ['no-such-actor'] },
  actorGet: { type: 'request', id: 'fz-get', method: 'actorGet', args: ['no-such-name'] },
  actorList: { type: 'request', id: 'fz-list', method: 'actorList', args: [] },
  followLogs: { type: 'request', id: 'fz-follow', method: 'followLogs', args: ['no-such-agent'] },
  submitRef: { type: 'request', id: 'fz-submit-ref', method: 'submitRef', args: [{ ...taskSpec, id: 'fz-task-ref', keep: 'fz-template-ref' }] },
  put: { type: 'request', id: 'fz-put', method: 'put', args: ['fz-template-put', packValue([1]), []] },
  objectGet: { type: 'request', id: 'fz-object-get', method: 'objectGet', args: ['no-such-object'] },
  objectWait: { type: 'request', id: 'fz-object-wait', method: 'objectWait', args: [['no-such-object'], 1, 10] },
  objectFree: { type: 'request', id: 'fz-object-free', method: 'objectFree', args: [['no-such-object']] },
  objectStats: { type: 'request', id: 'fz-object-stats', method: 'objectStats', args: [] },
  history: { type: 'request', id: 'fz-history', method: 'history', args: [{ limit: 5, outcome: null, callId: null }] },
  detach: { type: 'request', id: 'fz-detach', method: 'detach', args: [{ code: 'never-sent', export: null, kind: 'map', inline: false, chunkSize: 1, timeoutMs: null, retries: 0, retryExceptions: 0, priority: 0, resources: null, label: 'fz', items: [] }] },
  collect: { type: 'request', id: 'fz-collect', method: 'collect', args: ['dnope'] },
  collectNext: { type: 'request', id: 'fz-collect-next', method: 'collectNext', args: ['dnope', 0] },
  detachedList: { type: 'request', id: 'fz-detached', method: 'detachedList', args: [] },
  dashboard: { type: 'request', id: 'fz-dashboard', method: 'dashboard', args: [] },
  status: { type: 'request', id: 'fz-status', method: 'status', args: [] },
  stop: { type: 'request', id: 'fz-stop', method: 'stop', args: [] },
};

/** Top-level fields a union member's schema has and its template lacks (the templates must cover every field). */
export function missingFields(union: { options: readonly { shape: Record<string, unknown> }[] }, templates: Record<string, object>): string[] {
  const missing: string[] = [];
  for (const member of union.options) {
    const type = (member.shape.type as { value?: unknown } | undefined)?.value;
    const template = templates[String(type)];
    if (!template) {
      missing.push(`${String(type)} (no template)`);
      continue;
    }
    for (const key of Object.keys(member.shape)) if (!(key in template)) missing.push(`${String(type)}.${key}`);
  }
  return missing;
}

// ---- mutations -------------------------------------------------------------------------------

export type Path = readonly (string | number)[];

/** Paths of every string value inside `value` (`type` included). */
export function stringPaths(value: unknown, prefix: Path = []): Path[] {
  if (typeof value === 'string') return [prefix];
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return [];
  return Object.entries(value).flatMap(([k, v]) => stringPaths(v, [...prefix, k]));
}

/** Paths of every leaf (string, number, boolean, null, bytes) inside `value`. */
export function leafPaths(value: unknown, prefix: Path = []): Path[] {
  if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return [prefix];
  return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
}

/** A deep copy of `value` with `path` set to `replacement` (or deleted, for `undefined`). */
export function withValueAt<T>(value: T, path: Path, replacement: unknown): T {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let node = copy;
  for (let i = 0; i < path.length - 1; i++) node = node[path[i]!] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (replacement === undefined) delete node[last];
  else node[last] = replacement;
  return copy as T;
}

/** A value of another type than `current`, chosen to be wrong for the schema (or almost right). */
export function wrongTypeFor(rng: Rng, current: unknown): unknown {
  const pool: unknown[] = [null, true, 0, -1, 1.5, 2 ** 53, NaN, Infinity, '', 'x', '1', [], {}, new Uint8Array([1, 2]), [1, 'a'], { type: 'ping' }];
  const different = pool.filter((v) => typeof v !== typeof current || (v === null) !== (current === null) || Number.isNaN(v));
  return rng.pick(different.length > 0 ? different : pool);
}

/** Frames (as JS values) that are valid msgpack and the wrong shape for any protocol. */
export function wrongShapeFrames(rng: Rng, templates: Record<string, object>, count: number): unknown[] {
  const fixed: unknown[] = [
    null, 1, 'hello', true, {}, { type: 'hello' }, new Uint8Array([0x91, 0xc0]), [], [null], [1], ['hello'], [[]], [[{ type: 'ping', t: 1 }]],
    [{}], [{ type: null }], [{ type: 7 }], [{ type: { type: 'ping' } }], [{ type: ['hello'] }],
    [{ type: 'nope' }], [{ type: 'HELLO' }], [{ type: '' }], [{ type: 'a'.repeat(5_000) }],
  ];
  const out = [...fixed];
  const names = Object.keys(templates);
  while (out.length < count) {
    const template = templates[rng.pick(names)]!;
    const paths = leafPaths(template).filter((p) => p[0] !== 'type');
    const path = rng.pick(paths);
    const mutation = rng.int(0, 2);
    let message: unknown;
    if (mutation === 0) message = withValueAt(template, path, undefined);
    else if (mutation === 1) message = withValueAt(template, path, wrongTypeFor(rng, valueAt(template, path)));
    else message = withValueAt(template, path, 'x'.repeat(rng.pick([129, 257, 1_025, 5_000])));
    out.push(rng.bool(0.2) ? [template, message] : [message]);
  }
  return out;
}

function valueAt(value: unknown, path: Path): unknown {
  let node = value;
  for (const key of path) node = (node as Record<string | number, unknown>)[key];
  return node;
}

/**
 * A one-message frame whose `field` holds a RemoteErrorInfo with a `cause` chain `depth` long,
 * written byte by byte (msgpackr's own packer overflows its stack long before a decoder does).
 */
export function deepCauseFrame(message: Record<string, unknown>, field: string, depth: number): Buffer {
  const entries = Object.entries(message).filter(([k]) => k !== field);
  const level = Buffer.concat([Buffer.from([0x83]), pack('name'), pack('E'), pack('message'), pack('m'), pack('cause')]);
  return Buffer.concat([
    Buffer.from([0x91, 0x80 | (entries.length + 1)]),
    ...entries.flatMap(([k, v]) => [pack(k), pack(v)]),
    pack(field),
    Buffer.concat(Array<Buffer>(depth).fill(level)),
    pack({ name: 'E', message: 'm' }),
  ]);
}
