// The frames of `done` and `task` messages packed and read by hand (protocol/done-frames.ts,
// task-frames.ts) against msgpackr and the schemas, on seeded fuzzed inputs: the hand packers
// write the envelope packr's bytes exactly, and whatever a hand reader returns for any input
// (valid, mutated, truncated) is what msgpackr and the schemas return for it.
import { describe, expect, it } from 'vitest';
import { AgentMessage } from '../../protocol/agent-messages.js';
import { decodeAgentFrame, decodeCoordinatorFrame, decodeFrame, encodeFrame, encodeSegmented, type HandshakeCheck } from '../../protocol/codec.js';
import { CoordinatorMessage } from '../../protocol/coordinator-messages.js';
import { packDoneFrame, unpackDoneFrame } from '../../protocol/done-frames.js';
import { AGENT_HOT_CHECKS, COORDINATOR_HOT_CHECKS } from '../../protocol/hot-messages.js';
import { packTaskFrame, unpackTaskFrame } from '../../protocol/task-frames.js';
import { taskMessage } from '../../coordinator/engine/link-load.js';
import { task as taskRecord } from '../engine/fake-links.js';
import { fuzzSeed, MULTIBYTE, rngFor, type Rng } from '../fuzz/generators.js';
import { frameMutations } from '../fuzz/mutations.js';

const SEED = fuzzSeed();
const LIMIT = 1024 * 1024;
const HANDSHAKE: HandshakeCheck = { types: new Set(['hello', 'welcome']), hint: '' };
const CODE = '6b90919692b25c6b02c9c4431040113391c1633db3523992d68a99d14a88b4fa';

function id(rng: Rng): string {
  const base = `${rng.int(0, 1e6).toString(36)}.${rng.int(0, 1e9).toString(36)}`;
  if (rng.bool(0.05)) return (base + 'x'.repeat(rng.int(20, 110))).slice(0, 128);
  const multi = base + rng.pick(Object.values(MULTIBYTE));
  if (rng.bool(0.03) && multi.length <= 128) return multi;
  return base;
}

function ascii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

function runMs(rng: Rng): number {
  return rng.pick([0, 1, 63, 64, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, 0.0123, rng.next() * 100]);
}

function done(rng: Rng): { type: 'done'; id: string; value: Buffer; runMs: number } {
  return { type: 'done', id: id(rng), value: rng.bytes(rng.bool(0.1) ? rng.int(256, 2000) : rng.int(0, 12)), runMs: runMs(rng) };
}

function task(rng: Rng, code: string): Record<string, unknown> {
  return {
    type: 'task',
    id: id(rng),
    code,
    export: rng.bool(0.2) ? rng.pick(['fib', 'default', 'x'.repeat(40)]) : null,
    args: rng.bytes(rng.bool(0.1) ? rng.int(256, 2000) : rng.int(1, 12)),
    inline: rng.bool(0.2),
    chunk: rng.bool(0.2),
    timeoutMs: rng.pick([null, null, 1, 63, 64, 1000, 70_000, 2 ** 31 - 1]),
    express: rng.bool(0.2),
    keep: null,
    deps: [],
  };
}

function batch<T>(rng: Rng, make: (rng: Rng) => T): T[] {
  return Array.from({ length: rng.bool(0.3) ? rng.int(16, 300) : rng.int(1, 15) }, () => make(rng));
}

/** The frame as msgpackr and the schemas read it, or the error they throw. */
function generic(frame: Buffer, from: 'agent' | 'coordinator'): unknown {
  try {
    return from === 'agent'
      ? decodeFrame(frame, LIMIT, AgentMessage, 'agent', HANDSHAKE, undefined, AGENT_HOT_CHECKS)
      : decodeFrame(frame, LIMIT, CoordinatorMessage, 'coordinator', HANDSHAKE, undefined, COORDINATOR_HOT_CHECKS);
  } catch (err) {
    return { error: (err as Error).message };
  }
}

describe('hand-packed frames', () => {
  it('done frames: the envelope packr\'s bytes, read back as msgpackr and the schema read them', () => {
    const rng = rngFor(SEED, 'done-frames');
    for (let i = 0; i < 400; i++) {
      const messages = batch(rng, done);
      const hand = packDoneFrame(messages);
      expect(hand, `seed ${SEED}`).not.toBeNull();
      expect(Buffer.compare(hand!, encodeFrame(messages as never)), `seed ${SEED}`).toBe(0);
      // Other UTF-8 than ASCII is msgpackr's to read.
      const read = unpackDoneFrame(hand!);
      if (messages.every((m) => ascii(m.id))) expect(read).toEqual(generic(Buffer.from(hand!), 'agent'));
      else expect(read).toBeNull();
      expect(decodeAgentFrame(hand!, LIMIT)).toEqual(generic(Buffer.from(hand!), 'agent'));
    }
  });

  it('task frames: the envelope packr\'s bytes, read back as msgpackr and the schema read them', () => {
    const rng = rngFor(SEED, 'task-frames');
    for (let i = 0; i < 400; i++) {
      const code = rng.bool(0.9) ? CODE : id(rng);
      const messages = batch(rng, (r) => task(r, code));
      const hand = packTaskFrame(messages);
      expect(hand, `seed ${SEED}`).not.toBeNull();
      expect(Buffer.compare(hand!, encodeFrame(messages as never)), `seed ${SEED}`).toBe(0);
      const read = unpackTaskFrame(hand!);
      if (messages.every((m) => ascii(m.id as string) && ascii(code))) expect(read).toEqual(generic(Buffer.from(hand!), 'coordinator'));
      else expect(read).toBeNull();
      expect(decodeCoordinatorFrame(hand!, LIMIT)).toEqual(generic(Buffer.from(hand!), 'coordinator'));
    }
  });

  it('a mutated or cut frame reads as msgpackr and the schemas read it, or is left to them', () => {
    const rng = rngFor(SEED, 'frame-mutations');
    let handRead = 0;
    for (let i = 0; i < 400; i++) {
      const isDone = rng.bool();
      const messages = isDone ? batch(rng, done) : batch(rng, (r) => task(r, CODE));
      const frame = encodeFrame(messages as never);
      for (const m of frameMutations(frame, rng)) {
        const hand = isDone ? unpackDoneFrame(m) : unpackTaskFrame(m);
        if (hand === null) continue;
        handRead++;
        expect(hand, `seed ${SEED}, frame ${m.toString('hex')}`).toEqual(generic(m, isDone ? 'agent' : 'coordinator'));
      }
    }
    expect(handRead).toBeGreaterThan(0);
  });

  it('anything but the common form goes to msgpackr', () => {
    const rng = rngFor(SEED, 'frame-others');
    const d = done(rng);
    const t = task(rng, CODE);
    const others: object[][] = [
      [],
      [d, { ...d, refs: ['o_1'] }],
      [{ ...d, value: new Uint8Array(64 * 1024) }],
      [{ ...d, runMs: -1 }],
      [{ ...d, runMs: Number.NaN }],
      [{ ...d, id: '' }],
      [{ ...t, deps: [{ objectId: 'o_1', from: [] }] }],
      [{ ...t, keep: 'o_2' }],
      [{ ...t, parked: true }],
      [{ ...t, gpus: 1 }],
      [{ ...t, timeoutMs: 0 }],
      [{ ...t, timeoutMs: 1.5 }],
      [t, d],
      [{ type: 'code', hash: CODE, kind: 'function', source: 'x => x' }, t],
    ];
    for (const messages of others) {
      expect(packDoneFrame(messages)).toBeNull();
      expect(packTaskFrame(messages)).toBeNull();
      if (messages.length > 0) expect(Buffer.compare(encodeSegmented(messages).head, encodeFrame(messages as never))).toBe(0);
    }
  });

  it('the coordinator\'s own task message of a plain task, and the agent\'s plain result, take the hand path', () => {
    // The hand packer knows taskMessage's keys: a key added there must not silently send every task through msgpackr.
    const message = taskMessage(taskRecord('s').record, CODE, false);
    const frame = packTaskFrame([message, message]);
    expect(frame).not.toBeNull();
    expect(Buffer.compare(frame!, encodeFrame([message, message]))).toBe(0);
    expect(unpackTaskFrame(frame!)).toEqual(generic(Buffer.from(frame!), 'coordinator'));
    expect(packDoneFrame([{ type: 'done', id: 't1', value: new Uint8Array([1]), runMs: 0.5 }])).not.toBeNull();
  });
});
