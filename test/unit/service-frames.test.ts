// The client protocol's frames of a connected map, `submits` and `results`, packed and read by
// hand (protocol/service-frames.ts) against msgpackr and the schemas, on seeded fuzzed inputs: the
// hand packers write the envelope packr's bytes exactly, and whatever a hand reader returns for
// any input (valid, mutated, truncated) is what msgpackr and the schemas return for it; a frame
// the decoders refuse is refused with a ProtocolError, whichever path read it.
import { describe, expect, it } from 'vitest';
import { decodeClientFrame, decodeServiceFrame } from '../../protocol/client-codec.js';
import { decodeFrame, encodeFrame, encodeSegmented, type HandshakeCheck } from '../../protocol/codec.js';
import { TaskSpec } from '../../protocol/core-methods.js';
import { ProtocolError } from '../../protocol/errors.js';
import { CLIENT_HOT_CHECKS, SERVICE_HOT_CHECKS } from '../../protocol/hot-messages.js';
import { BASE_FIELDS, OPTIONAL_BASE_FIELDS, packResultsFrame, packSubmitsFrame, unpackResultsFrame, unpackSubmitsFrame } from '../../protocol/service-frames.js';
import { ClientMessage, ServiceMessage } from '../../protocol/service-messages.js';
import { MAX_BATCH } from '../../protocol/version.js';
import { fuzzSeed, MULTIBYTE, rngFor, type Rng } from '../fuzz/generators.js';
import { frameMutations } from '../fuzz/mutations.js';

const SEED = fuzzSeed();
const LIMIT = 1024 * 1024;
const HANDSHAKE: HandshakeCheck = { types: new Set(['client-hello', 'client-welcome']), hint: '' };
const CODE = '6b90919692b25c6b02c9c4431040113391c1633db3523992d68a99d14a88b4fa';

function id(rng: Rng, prefix = 'r.'): string {
  const base = `${prefix}${rng.int(0, 1e9).toString(36)}`;
  if (rng.bool(0.05)) return (base + 'x'.repeat(rng.int(20, 110))).slice(0, 128);
  const multi = base + rng.pick(Object.values(MULTIBYTE));
  if (rng.bool(0.03) && multi.length <= 128) return multi;
  return base;
}

function ascii(s: unknown): boolean {
  if (typeof s !== 'string') return true;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** A base as the client builds one (coordinator/api/task-call.ts: its keys in that order), of any plain form. */
function base(rng: Rng, pool: boolean, call: boolean): Record<string, unknown> {
  const b: Record<string, unknown> = {
    code: rng.bool(0.9) ? CODE : id(rng, 'h'),
    export: rng.bool(0.2) ? rng.pick(['fib', 'default', 'x'.repeat(40)]) : null,
    refs: [],
    keep: null,
    inline: rng.bool(0.2),
    chunk: rng.bool(0.2),
    timeoutMs: rng.pick([null, null, 1, 63, 64, 1000, 70_000, 2 ** 31 - 1]),
    retries: rng.pick([0, 3, 64, 1000]),
    retryExceptions: rng.pick([0, 1, 200]),
    priority: rng.pick([0, 0, 5, 64, 1e6, 0.5]),
    weight: rng.pick([1, 1, 0.25, 64, 1e6]),
    group: rng.bool(0.8) ? `m${rng.int(1, 1e6)}` : null,
    resources: null,
  };
  if (pool) b.pool = rng.pick([null, 'gpu', 'cpu-big']);
  if (call) b.call = { id: `m${rng.int(1, 1e6)}`, label: rng.pick(['map', 'stream', 'fib', '']) };
  return b;
}

/** How many tasks a message holds: mostly a fixarray's worth, sometimes an array 16's. */
function count(rng: Rng, most: number): number {
  return rng.bool(0.2) ? rng.int(16, most) : rng.int(1, 15);
}

function submits(rng: Rng, b: Record<string, unknown>, most = 300): Record<string, unknown> {
  const n = count(rng, most);
  const args = Array.from({ length: n }, () => rng.bytes(rng.bool(0.05) ? rng.int(256, 2000) : rng.int(1, 12)));
  return { type: 'submits', base: b, ids: Array.from({ length: n }, () => id(rng)), tasks: Array.from({ length: n }, () => id(rng, 't')), args };
}

function results(rng: Rng, most = 300): Record<string, unknown> {
  const n = count(rng, most);
  return { type: 'results', ids: Array.from({ length: n }, () => id(rng)), values: Array.from({ length: n }, () => rng.bytes(rng.bool(0.05) ? rng.int(256, 2000) : rng.int(0, 12))) };
}

/** A frame's submits: bases of one shape (as one map's are), 1 to 3 messages. */
function submitsFrame(rng: Rng, most?: number): Record<string, unknown>[] {
  const pool = rng.bool(0.3);
  const call = rng.bool(0.7);
  return Array.from({ length: rng.bool(0.2) ? rng.int(2, 3) : 1 }, () => submits(rng, base(rng, pool, call), most));
}

function resultsFrame(rng: Rng, most?: number): Record<string, unknown>[] {
  return Array.from({ length: rng.bool(0.2) ? rng.int(2, 3) : 1 }, () => results(rng, most));
}

/** The frame as msgpackr and the schemas read it, or the error they throw. */
function generic(frame: Buffer, from: 'client' | 'service'): unknown {
  try {
    return from === 'client'
      ? decodeFrame(frame, LIMIT, ClientMessage, 'client', HANDSHAKE, undefined, CLIENT_HOT_CHECKS)
      : decodeFrame(frame, LIMIT, ServiceMessage, 'service', HANDSHAKE, undefined, SERVICE_HOT_CHECKS);
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** What a decoder makes of a frame: its messages, or its error's message (any other exception fails). */
function decoded(frame: Buffer, from: 'client' | 'service'): unknown {
  try {
    return from === 'client' ? decodeClientFrame(frame, LIMIT) : decodeServiceFrame(frame, LIMIT);
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return { error: (err as Error).message };
  }
}

function allAscii(messages: Record<string, unknown>[]): boolean {
  return messages.every((m) => {
    const b = (m.base ?? {}) as Record<string, unknown>;
    const call = (b.call ?? {}) as Record<string, unknown>;
    const strings = [...((m.ids as string[]) ?? []), ...((m.tasks as string[]) ?? []), b.code, b.export, b.group, b.pool, call.id, call.label];
    return strings.every(ascii);
  });
}

describe(`hand-packed client frames (seed ${SEED})`, () => {
  it("submits frames: the envelope packr's bytes, read back as msgpackr and the schema read them", () => {
    const rng = rngFor(SEED, 'submits-frames');
    for (let i = 0; i < 200; i++) {
      const messages = submitsFrame(rng);
      const hand = packSubmitsFrame(messages);
      expect(hand, `seed ${SEED}`).not.toBeNull();
      expect(Buffer.compare(hand!, encodeFrame(messages as never)), `seed ${SEED}`).toBe(0);
      // Other UTF-8 than ASCII is msgpackr's to read.
      const read = unpackSubmitsFrame(hand!);
      if (allAscii(messages)) expect(read).toEqual(generic(Buffer.from(hand!), 'client'));
      else expect(read).toBeNull();
      expect(decoded(hand!, 'client')).toEqual(generic(Buffer.from(hand!), 'client'));
    }
  });

  it("results frames: the envelope packr's bytes, read back as msgpackr and the schema read them", () => {
    const rng = rngFor(SEED, 'results-frames');
    for (let i = 0; i < 200; i++) {
      const messages = resultsFrame(rng);
      const hand = packResultsFrame(messages);
      expect(hand, `seed ${SEED}`).not.toBeNull();
      expect(Buffer.compare(hand!, encodeFrame(messages as never)), `seed ${SEED}`).toBe(0);
      const read = unpackResultsFrame(hand!);
      if (allAscii(messages)) expect(read).toEqual(generic(Buffer.from(hand!), 'service'));
      else expect(read).toBeNull();
      expect(decoded(hand!, 'service')).toEqual(generic(Buffer.from(hand!), 'service'));
    }
  });

  it('a mutated or cut frame reads as msgpackr and the schemas read it, or is left to them; the decoders throw ProtocolErrors only', () => {
    const rng = rngFor(SEED, 'client-frame-mutations');
    let handRead = 0;
    let refused = 0;
    for (let i = 0; i < 300; i++) {
      const isSubmits = rng.bool();
      const messages = isSubmits ? submitsFrame(rng, 40) : resultsFrame(rng, 40);
      const from = isSubmits ? 'client' : 'service';
      for (const m of frameMutations(encodeFrame(messages as never), rng)) {
        const slow = generic(m, from);
        expect(decoded(m, from), `seed ${SEED}, frame ${m.toString('hex')}`).toEqual(slow);
        if (typeof slow === 'object' && slow !== null && 'error' in slow) refused++;
        const hand = isSubmits ? unpackSubmitsFrame(m) : unpackResultsFrame(m);
        if (hand === null) continue;
        handRead++;
        expect(hand, `seed ${SEED}, frame ${m.toString('hex')}`).toEqual(slow);
      }
    }
    expect(handRead).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it('full messages of MAX_BATCH tasks take the hand path both ways', () => {
    const rng = rngFor(SEED, 'client-frame-full');
    const ids = Array.from({ length: MAX_BATCH }, (_, i) => `r.${i.toString(36)}`);
    const bytes = Array.from({ length: MAX_BATCH }, (_, i) => Buffer.from([0x91, i & 0x3f]));
    const full = [
      { type: 'submits', base: base(rng, false, true), ids, tasks: ids.map((x) => `t${x}`), args: bytes },
      { type: 'submits', base: base(rng, false, true), ids, tasks: ids.map((x) => `u${x}`), args: bytes },
    ];
    const s = packSubmitsFrame(full);
    expect(Buffer.compare(s!, encodeFrame(full as never))).toBe(0);
    expect(unpackSubmitsFrame(s!)).toEqual(full);
    const r = [{ type: 'results', ids, values: bytes }];
    const rf = packResultsFrame(r);
    expect(Buffer.compare(rf!, encodeFrame(r as never))).toBe(0);
    expect(unpackResultsFrame(rf!)).toEqual(r);
    // One past the limit is the schema's to refuse.
    const over = [{ type: 'results', ids: [...ids, 'r.x'], values: [...bytes, Buffer.from([1])] }];
    expect(packResultsFrame(over)).toBeNull();
    expect(unpackResultsFrame(encodeFrame(over as never))).toBeNull();
    expect(() => decodeServiceFrame(encodeFrame(over as never), LIMIT)).toThrow(ProtocolError);
  });

  it('anything but the common form goes to msgpackr', () => {
    const rng = rngFor(SEED, 'client-frame-others');
    const b = base(rng, false, true);
    const s = submits(rng, b);
    const r = results(rng);
    const others: object[][] = [
      [],
      [{ ...s, base: { ...b, refs: ['o_1'] } }],
      [{ ...s, base: { ...b, lazy: [] } }],
      [{ ...s, base: { ...b, keep: 'o_2' } }],
      [{ ...s, base: { ...b, resources: { gpus: 1 } } }],
      [{ ...s, base: { ...b, priority: -1 } }],
      [{ ...s, base: { ...b, call: { id: 'm1', label: 'map', extra: 1 } } }],
      [{ ...s, args: [new Uint8Array(64 * 1024), ...(s.args as Uint8Array[]).slice(1)] }],
      [{ ...s, ids: [] , tasks: [], args: [] }],
      [{ ...s, tasks: (s.tasks as string[]).slice(1) }],
      [{ ...s, extra: 1 }],
      // Two shapes of base in one frame: msgpackr gives the second a record of its own.
      [s, { ...s, base: base(rng, true, true) }],
      [{ ...r, values: [new Uint8Array(64 * 1024), ...(r.values as Uint8Array[]).slice(1)] }],
      [{ ...r, ids: (r.ids as string[]).slice(1) }],
      [s, r],
      [r, { type: 'response', id: 'r.1', ok: true, value: new Uint8Array([1]) }],
      [{ type: 'code', hash: CODE, kind: 'function', source: 'x => x', name: 'f' }, s],
    ];
    for (const messages of others) {
      expect(packSubmitsFrame(messages)).toBeNull();
      expect(packResultsFrame(messages)).toBeNull();
      if (messages.length > 0) {
        const frame = encodeFrame(messages as never);
        expect(Buffer.compare(encodeSegmented(messages).head, frame)).toBe(0);
        expect(unpackSubmitsFrame(frame)).toBeNull();
        expect(unpackResultsFrame(frame)).toBeNull();
      }
    }
  });

  it("the base's hand-packed fields are TaskSpec's, less those a submits message carries per task or never", () => {
    // A field added to TaskSpec must be packed by hand too (or a connected map would go through msgpackr unnoticed).
    const hand = [...BASE_FIELDS, ...OPTIONAL_BASE_FIELDS].map(([key]) => key).sort();
    // id and args: per task; lazy: only with refs (never gathered); parked: the coordinator's, on a task it sends an agent ahead.
    const schema = Object.keys(TaskSpec.shape).filter((key) => !['id', 'args', 'lazy', 'parked'].includes(key)).sort();
    expect(hand).toEqual(schema);
  });
});
