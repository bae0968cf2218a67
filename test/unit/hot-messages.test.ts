import { inspect } from 'node:util';
// The hand-written checks of the hot messages (protocol/hot-messages.ts) against their zod
// schemas on fuzzed inputs: whatever a check passes, the schema accepts and returns unchanged, and
// a frame decodes to the same messages (or the same error) with and without the checks.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { AgentMessage } from '../../protocol/agent-messages.js';
import { decodeAgentFrame, decodeCoordinatorFrame, decodeFrame } from '../../protocol/codec.js';
import { CoordinatorMessage } from '../../protocol/coordinator-messages.js';
import { TaskSpec } from '../../protocol/core-methods.js';
import { decodeClientFrame, decodeServiceFrame } from '../../protocol/client-codec.js';
import { isPlainDone, isPlainKept, isPlainRequest, isPlainResponse, isPlainResults, isPlainSubmitArgs, isPlainSubmits, isPlainTask, isPlainTaskSpec, type HotCheck } from '../../protocol/hot-messages.js';
import { ClientMessage, ServiceMessage, ServiceMethods } from '../../protocol/service-messages.js';
import { fuzzSeed, MULTIBYTE, randomMsgpack, rngFor, type Rng } from '../fuzz/generators.js';

const SEED = fuzzSeed();
const CASES = 20_000;
const LIMIT = 1024 * 1024;
const raw = new Packr({ useRecords: false, mapsAsObjects: true });

const DONE = { type: 'done', id: 'a1b2c3.4f', value: new Uint8Array([0x91, 0x01]), runMs: 0.25 };
const REQUEST = { type: 'request', id: 'r12', method: 'submit', args: [{ id: 't1' }, 2] };
const RESPONSE = { type: 'response', id: 'r12', ok: true, value: new Uint8Array([0x01]) };
const SPEC = {
  id: 't1', code: 'h'.repeat(16), export: null, args: new Uint8Array([0x91, 0x01]), refs: [], keep: null, inline: false, chunk: false, timeoutMs: null,
  retries: 0, retryExceptions: 0, priority: 0, weight: 1, group: 'mabc', resources: null, pool: null, call: { id: 'mabc', label: 'map' },
};
const { id: _id, args: _args, ...BASE } = SPEC;
const SUBMITS = { type: 'submits', base: BASE, ids: ['r1', 'r2'], tasks: ['t1', 't2'], args: [new Uint8Array([0x91, 0x01]), new Uint8Array([0x91, 0x02])] };
const RESULTS = { type: 'results', ids: ['r1', 'r2', 'r3'], values: [new Uint8Array([0x01]), new Uint8Array([0x02]), new Uint8Array(0)] };
const KEPT = { type: 'kept', id: 'a1b2c3.4f', objectId: 'o_abc-1', size: 2, value: new Uint8Array([0x91, 0x01]), refs: ['o_r1'], runMs: 0.25 };
const PARKED_TASK = {
  type: 'task', id: 'a1b2c3.50', code: 'h'.repeat(16), export: null, args: new Uint8Array([0x91, 0x01]), inline: false, chunk: false, timeoutMs: null,
  keep: 'o_abc-2', deps: [{ objectId: 'o_abc-1', from: [] }, { objectId: 'o_abc-0', from: ['127.0.0.1:4000'], lazy: true }], express: true, parked: true,
};
const TASK = { type: 'task', id: 'a1b2c3.4f', code: 'h'.repeat(16), export: null, args: new Uint8Array([0x91, 0x01]), inline: false, chunk: false, timeoutMs: null, keep: null, deps: [], express: false };

/** A field value that is almost right, plainly wrong, or hostile. */
function oddValue(rng: Rng): unknown {
  switch (rng.int(0, 10)) {
    case 0:
      return rng.pick(['', 'x', 'x'.repeat(128), 'x'.repeat(129), MULTIBYTE.emoji ?? '😀', '😀'.repeat(64), '😀'.repeat(65), 'done', 'task', 'default']);
    case 1:
      return rng.pick([0, -0, -1, 1e-9, -1e-9, 0.5, 1, 1e308, NaN, Infinity, -Infinity, 2 ** 31 - 1, 2 ** 31, 2 ** 53, 7]);
    case 2:
      return rng.pick([null, undefined, true, false]);
    case 3:
      return rng.pick([new Uint8Array(0), Buffer.from([1, 2]), new Uint16Array(2), new ArrayBuffer(2), [1, 2], [], {}]);
    case 4:
      return rng.pick([1n, Symbol.iterator, () => 1, new Date(0), new Map([['a', 1]])]);
    case 5:
      return rng.pick([[{ objectId: 'o1', from: null }], [[]], Object.assign([], { extra: 1 })]);
    default:
      // a value as msgpack would hand it over, of any shape
      try {
        return raw.unpack(randomMsgpack(rng, 2));
      } catch {
        return 'undecodable';
      }
  }
}

interface Case {
  name: string;
  valid: Record<string, unknown>;
  check: HotCheck;
  schema: z.ZodType;
  decode: (data: Uint8Array, maxFrameBytes: number) => unknown[];
  from: string;
  handshake: { types: Set<string>; hint: string };
}

const AGENT_HANDSHAKE = { types: new Set(['hello', 'welcome']), hint: 'run the same clustrix version on the coordinator and the agents' };
const CLIENT_HANDSHAKE = { types: new Set(['client-hello', 'client-welcome']), hint: 'run the same clustrix version for the service (clustrix up) and its clients' };

const CASES_BY_TYPE: Case[] = [
  { name: 'done', valid: DONE, check: isPlainDone, schema: AgentMessage, decode: decodeAgentFrame, from: 'agent', handshake: AGENT_HANDSHAKE },
  { name: 'kept', valid: KEPT, check: isPlainKept, schema: AgentMessage, decode: decodeAgentFrame, from: 'agent', handshake: AGENT_HANDSHAKE },
  { name: 'parked task', valid: PARKED_TASK, check: isPlainTask, schema: CoordinatorMessage, decode: decodeCoordinatorFrame, from: 'coordinator', handshake: AGENT_HANDSHAKE },
  { name: 'task', valid: TASK, check: isPlainTask, schema: CoordinatorMessage, decode: decodeCoordinatorFrame, from: 'coordinator', handshake: AGENT_HANDSHAKE },
  { name: 'request', valid: REQUEST, check: isPlainRequest, schema: ClientMessage, decode: decodeClientFrame, from: 'client', handshake: CLIENT_HANDSHAKE },
  { name: 'submits', valid: SUBMITS, check: isPlainSubmits, schema: ClientMessage, decode: decodeClientFrame, from: 'client', handshake: CLIENT_HANDSHAKE },
  { name: 'results', valid: RESULTS, check: isPlainResults, schema: ServiceMessage, decode: decodeServiceFrame, from: 'service', handshake: CLIENT_HANDSHAKE },
  { name: 'response', valid: RESPONSE, check: isPlainResponse, schema: ServiceMessage, decode: decodeServiceFrame, from: 'service', handshake: CLIENT_HANDSHAKE },
];

/** A copy of a valid field, so that edits to the copy leave the template alone. */
function copied(v: unknown): unknown {
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (Array.isArray(v)) return v.map(copied);
  if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copied(x)]));
  return v;
}

/** The valid message with zero to three edits: a field changed, removed, or one added. */
function mutated(rng: Rng, valid: Record<string, unknown>): Record<string, unknown> {
  const msg = copied(valid) as Record<string, unknown>;
  const keys = [...Object.keys(valid), 'error', 'gpus', '__proto__', 'constructor', 'extra'];
  const edits = rng.int(0, 3);
  for (let e = 0; e < edits; e++) {
    const key = rng.pick(keys);
    if (rng.bool(0.2)) delete msg[key];
    else if (key === '__proto__') Object.defineProperty(msg, '__proto__', { value: oddValue(rng), enumerable: true, configurable: true, writable: true });
    else msg[key] = oddValue(rng);
  }
  // Inside: a nested object (a base, a call) edited the same way, or a column's element changed, added or removed.
  if (rng.bool(0.3) && Object.keys(msg).length > 0) {
    const key = rng.pick(Object.keys(msg));
    const inner = msg[key];
    if (Array.isArray(inner)) {
      const edit = rng.int(0, 2);
      if (edit === 0 && inner.length > 0) inner[rng.int(0, inner.length - 1)] = oddValue(rng);
      else if (edit === 1) inner.push(rng.bool(0.5) ? inner[0] : oddValue(rng));
      else inner.pop();
    } else if (typeof inner === 'object' && inner !== null && Object.getPrototypeOf(inner) === Object.prototype) {
      msg[key] = mutated(rng, inner as Record<string, unknown>);
    }
  }
  return msg;
}

/** A value for a failure message (BigInts and all). */
function show(v: unknown): string {
  return String(JSON.stringify(v, (_, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)));
}

/** The decoded messages of a frame, or its error's message. */
/** Deep equality by prototype, own keys and leaf values (Dates by time, NaN equal to NaN, byte views by class and bytes). */
function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime());
  if (ArrayBuffer.isView(a)) return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from((b as ArrayBufferView).buffer, (b as ArrayBufferView).byteOffset, (b as ArrayBufferView).byteLength));
  const keys = Reflect.ownKeys(a);
  if (keys.length !== Reflect.ownKeys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && same((a as Record<PropertyKey, unknown>)[k], (b as Record<PropertyKey, unknown>)[k]));
}

function outcome(decode: () => unknown[]): unknown {
  try {
    return { ok: decode() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

describe.each(CASES_BY_TYPE)(`hot message check of $name (seed ${SEED})`, ({ name, valid, check, schema, decode, from, handshake }) => {
  it('passes only what the schema accepts unchanged', () => {
    const rng = rngFor(SEED, `${name}-check`);
    let passed = 0;
    let refused = 0;
    for (let i = 0; i < CASES; i++) {
      const msg = rng.bool(0.1) ? oddValue(rng) : mutated(rng, valid);
      if (!check(msg)) {
        refused++;
        continue;
      }
      passed++;
      const parsed = schema.safeParse(msg);
      expect(parsed.success, `zod refused what the check passed: ${show(msg)}`).toBe(true);
      expect(same(parsed.data, msg), `zod changed what the check passed: ${show(msg)}`).toBe(true);
    }
    // Both sides of the check were exercised.
    expect(passed).toBeGreaterThan(CASES / 20);
    expect(refused).toBeGreaterThan(CASES / 20);
  });

  it('passes the valid message, as msgpack decodes it too', () => {
    expect(check(valid)).toBe(true);
    expect(check(raw.unpack(raw.pack(valid)))).toBe(true);
  });

  it('frames decode the same with and without the check', () => {
    const rng = rngFor(SEED, `${name}-frames`);
    for (let i = 0; i < CASES / 4; i++) {
      const messages = Array.from({ length: rng.int(1, 4) }, () => (rng.bool(0.7) ? mutated(rng, valid) : oddValue(rng)));
      let frame: Buffer;
      try {
        frame = raw.pack(messages);
      } catch {
        continue; // not packable (a symbol, a function): no peer can send it
      }
      const fast = outcome(() => decode(frame, LIMIT));
      const slow = outcome(() => decodeFrame(frame, LIMIT, schema, from, handshake));
      // Not toStrictEqual: its type check reads `constructor`, which a fuzzed value may have as an
      // own key (two equal Dates from two decodes were then compared by identity).
      expect(same(fast, slow), `the two decodes differ: ${inspect(messages, { depth: 6 })}`).toBe(true);
    }
  });
});

// A connected map's `submit` arguments, checked by hand in the service before the method's schema.
describe(`hot argument check of submit (seed ${SEED})`, () => {
  const schema = ServiceMethods.submit.args;
  const bare: Record<string, unknown> = { ...SPEC };
  delete bare.pool;
  delete bare.call;
  const variants = [SPEC, bare, { ...SPEC, pool: 'gpu' }, { ...SPEC, timeoutMs: 1000, export: 'fib', group: null }];

  it('passes only what the schema accepts unchanged', () => {
    const rng = rngFor(SEED, 'submit-args');
    let passed = 0;
    let refused = 0;
    for (let i = 0; i < CASES; i++) {
      const spec = mutated(rng, rng.pick(variants));
      if (rng.bool(0.2) && typeof spec.call === 'object' && spec.call !== null && Object.getPrototypeOf(spec.call) === Object.prototype) spec.call = mutated(rng, spec.call as Record<string, unknown>);
      const shape = rng.int(0, 19);
      const args: unknown = shape === 0 ? oddValue(rng) : shape === 1 ? [spec, oddValue(rng)] : shape === 2 ? Object.assign([spec], { extra: 1 }) : [spec];
      // The spec alone against its own schema, then the argument list.
      if (isPlainTaskSpec(spec)) {
        const parsed = TaskSpec.safeParse(spec);
        expect(parsed.success, `zod refused what the check passed: ${show(spec)}`).toBe(true);
        expect(same(parsed.data, spec), `zod changed what the check passed: ${show(spec)}`).toBe(true);
      }
      if (!isPlainSubmitArgs(args)) {
        refused++;
        continue;
      }
      passed++;
      const parsed = schema.safeParse(args);
      expect(parsed.success, `zod refused what the check passed: ${show(args)}`).toBe(true);
      expect(same(parsed.data, args), `zod changed what the check passed: ${show(args)}`).toBe(true);
    }
    expect(passed).toBeGreaterThan(CASES / 20);
    expect(refused).toBeGreaterThan(CASES / 20);
  });

  it('passes the valid arguments, as msgpack decodes them too', () => {
    for (const spec of variants) {
      expect(isPlainSubmitArgs([spec])).toBe(true);
      expect(isPlainSubmitArgs(raw.unpack(raw.pack([spec])))).toBe(true);
    }
  });
});
