// Raw bytes into the frame decoders: every malformed frame is a ProtocolError carrying the close
// code the connection is closed with, and never any other exception type.
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import {
  CloseCode,
  MAX_MESSAGES_PER_FRAME,
  PROTOCOL_VERSION,
  ProtocolError,
  decodeAgentFrame,
  decodeCoordinatorFrame,
  encodeFrame,
} from '../../protocol/index.js';

const LIMIT = 1024 * 1024;
const raw = new Packr({ useRecords: false, mapsAsObjects: true });
/** Any msgpack value, bypassing the typed encoder. */
const pack = (value: unknown): Buffer => raw.pack(value);

type Decoder = (data: Uint8Array, maxFrameBytes: number) => unknown;
const decoders: [string, Decoder][] = [
  ['decodeAgentFrame', decodeAgentFrame],
  ['decodeCoordinatorFrame', decodeCoordinatorFrame],
];

/** The error a decoder threw; fails the test if it returned instead. */
function failure(decode: Decoder, data: unknown, limit = LIMIT): unknown {
  try {
    decode(data as Uint8Array, limit);
  } catch (err) {
    return err;
  }
  throw new Error('expected the frame to be refused, but it decoded');
}

function expectProtocolError(err: unknown, closeCode: number, message?: RegExp): ProtocolError {
  expect(err).toBeInstanceOf(ProtocolError);
  const pe = err as ProtocolError;
  expect(pe.closeCode).toBe(closeCode);
  if (message) expect(pe.message).toMatch(message);
  return pe;
}

const ping = { type: 'ping', t: 1 } as const;
const pong = { type: 'pong', t: 1, rssBytes: 10, running: 0, peerBytesIn: 0, peerBytesOut: 0 } as const;

describe.each(decoders)('%s refuses', (_name, decode) => {
  it('a frame cut short at every possible length', () => {
    const frame = encodeFrame([ping, pong, { type: 'shutdown', reason: 'bye' }, { type: 'draining', reason: 'walltime' }]);
    for (let cut = 0; cut < frame.length; cut++) {
      expectProtocolError(failure(decode, frame.subarray(0, cut)), CloseCode.protocolError);
    }
  });

  it('a frame past the size limit, with close code 1009 and both sizes in the message', () => {
    const frame = encodeFrame([ping]);
    const pe = expectProtocolError(failure(decode, frame, frame.length - 1), CloseCode.tooBig);
    expect(pe.message).toContain(`${frame.length} bytes`);
    expect(pe.message).toContain(`${frame.length - 1} bytes`);
  });

  it.each([
    ['a map', { type: 'ping', t: 1 }],
    ['a number', 42],
    ['a string', 'ping'],
    ['nil', null],
    ['a boolean', true],
    ['binary', new Uint8Array([1, 2, 3])],
  ])('a frame that is %s instead of an array', (_label, value) => {
    expectProtocolError(failure(decode, pack(value)), CloseCode.protocolError, /non-empty array/);
  });

  it('an empty array', () => {
    expectProtocolError(failure(decode, pack([])), CloseCode.protocolError, /non-empty array/);
  });

  it(`more than ${MAX_MESSAGES_PER_FRAME} messages in one frame`, () => {
    const many = new Array<unknown>(MAX_MESSAGES_PER_FRAME + 1).fill({ type: 'ping', t: 0 });
    expectProtocolError(failure(decode, pack(many), 64 * LIMIT), CloseCode.protocolError, /at most/);
  });

  it.each([
    ['a number', 7],
    ['nil', null],
    ['a string', 'hello'],
    ['an array', [ping]],
    ['an object without type', { t: 1 }],
  ])('an element that is %s', (_label, element) => {
    expectProtocolError(failure(decode, pack([element])), CloseCode.protocolError, /#0/);
  });

  it('an unknown message kind, naming it and its position', () => {
    expectProtocolError(failure(decode, pack([{ type: 'explode', now: true }])), CloseCode.protocolError, /#0 of type 'explode'/);
  });

  it('a bad message after good ones, by its index', () => {
    const good = decode === decodeAgentFrame ? pong : ping;
    expectProtocolError(failure(decode, pack([good, good, { type: 'nonsense' }])), CloseCode.protocolError, /#2/);
  });

  it.each([
    ['a string', 'hello'],
    ['an ArrayBuffer', new ArrayBuffer(8)],
    ['an array of numbers', [0x91, 0xc0]],
    ['null', null],
    ['undefined', undefined],
  ])('%s instead of binary data', (_label, data) => {
    expectProtocolError(failure(decode, data), CloseCode.protocolError, /binary/);
  });
});

describe('decodeAgentFrame refuses wrong field types', () => {
  const hello = {
    type: 'hello', protocol: PROTOCOL_VERSION, token: 'secret-token-0123456789', agentId: 'a-0', jobId: null, host: 'h', pid: 1, cpus: 2,
    memoryBytes: 1024, node: 'v20.0.0', slots: 1, inlineConcurrency: 64, walltimeLeftMs: null,
  };
  it.each([
    ['pong.t as a string', { ...pong, t: 'now' }, /\bt\b/],
    ['pong.running negative', { ...pong, running: -1 }, /running/],
    ['done.value as a string instead of bytes', { type: 'done', id: 'x', value: 'abc', runMs: 1 }, /value/],
    ['done without id', { type: 'done', value: new Uint8Array(1), runMs: 1 }, /id/],
    ['failed with an unknown kind', { type: 'failed', id: 'x', kind: 'meltdown', error: { name: 'E', message: 'm' } }, /kind/],
    ['failed whose error cause is a string', { type: 'failed', id: 'x', kind: 'exception', error: { name: 'E', message: 'm', cause: 'why' } }, /cause/],
    ['log on an unknown stream', { type: 'log', id: null, stream: 'stdin', text: 'x' }, /stream/],
    ['hello.pid as a string', { ...hello, pid: '12' }, /pid/],
    ['hello with zero slots', { ...hello, slots: 0 }, /slots/],
    ['hello with an empty token', { ...hello, token: '' }, /token/],
  ])('%s', (_label, message, where) => {
    expectProtocolError(failure(decodeAgentFrame, pack([message])), CloseCode.protocolError, where);
  });

  it('a message the coordinator sends, when an agent sent it', () => {
    expectProtocolError(failure(decodeAgentFrame, pack([ping])), CloseCode.protocolError, /'ping'/);
  });
});

describe('decodeCoordinatorFrame refuses wrong field types', () => {
  const task = { type: 'task', id: 't1', code: 'h1', export: null, args: new Uint8Array([0x90]), inline: false, chunk: false, timeoutMs: null };
  it.each([
    ['task.args as an array of numbers', { ...task, args: [0x90] }, /args/],
    ['task.inline as a string', { ...task, inline: 'yes' }, /inline/],
    ['task.timeoutMs of zero', { ...task, timeoutMs: 0 }, /timeoutMs/],
    ['task.id empty', { ...task, id: '' }, /id/],
    ['code of an unknown kind', { type: 'code', hash: 'h', kind: 'wasm', source: '' }, /kind/],
    ['ping without t', { type: 'ping' }, /\bt\b/],
  ])('%s', (_label, message, where) => {
    expectProtocolError(failure(decodeCoordinatorFrame, pack([message])), CloseCode.protocolError, where);
  });
});

describe('the protocol version', () => {
  const hello = {
    type: 'hello', protocol: PROTOCOL_VERSION + 1, token: 'secret-token-0123456789', agentId: null, jobId: null, host: 'h', pid: 1, cpus: 2,
    memoryBytes: 1024, node: 'v20.0.0', slots: 1, inlineConcurrency: 64, walltimeLeftMs: null,
  };

  it('of a hello that differs is refused with 4001, naming both versions', () => {
    const pe = expectProtocolError(failure(decodeAgentFrame, pack([hello])), CloseCode.versionMismatch);
    expect(pe.code).toBe('PROTOCOL_VERSION_MISMATCH');
    expect(pe.message).toMatch(new RegExp(`version ${PROTOCOL_VERSION + 1}\\b`));
    expect(pe.message).toMatch(new RegExp(`version ${PROTOCOL_VERSION}\\b`));
  });

  it('is checked before the schema: a future hello of another shape is still a version error', () => {
    const pe = expectProtocolError(failure(decodeAgentFrame, pack([{ type: 'hello', protocol: 999, credentials: {} }])), CloseCode.versionMismatch);
    expect(pe.message).toContain('999');
  });

  it('of a welcome that differs is refused with 4001', () => {
    const welcome = { type: 'welcome', protocol: 7, agentId: 'a', heartbeatMs: 1000 };
    const pe = expectProtocolError(failure(decodeCoordinatorFrame, pack([welcome])), CloseCode.versionMismatch);
    expect(pe.message).toMatch(/version 7\b/);
  });

  it('missing from a hello is a version error, not a crash', () => {
    const { protocol: _drop, ...noVersion } = hello;
    expectProtocolError(failure(decodeAgentFrame, pack([noVersion])), CloseCode.versionMismatch);
  });
});

describe('hostile values never escape as another exception type', () => {
  // msgpack maps become plain objects, so a peer controls keys such as toString and valueOf.
  const unprintable = { toString: 1, valueOf: 2 };

  it.each([
    ['a hello whose protocol cannot be turned into a string', [{ type: 'hello', protocol: unprintable }]],
    ['a message whose type cannot be turned into a string', [{ type: unprintable }]],
    ['a message whose type is a nested array', [{ type: [[1]] }]],
  ])('%s', (_label, frame) => {
    for (const [, decode] of decoders) expect(failure(decode, pack(frame))).toBeInstanceOf(ProtocolError);
  });

  it('random bytes', () => {
    const rand = prng(0xc1057);
    for (let i = 0; i < 3_000; i++) {
      const bytes = new Uint8Array(1 + Math.floor(rand() * 64));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(rand() * 256);
      for (const [, decode] of decoders) {
        try {
          decode(bytes, LIMIT);
        } catch (err) {
          expect(err, `bytes ${Buffer.from(bytes).toString('hex')}`).toBeInstanceOf(ProtocolError);
        }
      }
    }
  });

  it('valid frames with random bytes flipped', () => {
    const rand = prng(42);
    const frames = [
      encodeFrame([pong, { type: 'log', id: 't', stream: 'stdout', text: 'hi' }]),
      encodeFrame([{ type: 'task', id: 't1', code: 'h1', export: null, args: new Uint8Array([0x90]), inline: false, chunk: false, timeoutMs: 5, keep: null, deps: [] }]),
    ];
    for (let i = 0; i < 3_000; i++) {
      const frame = Uint8Array.from(frames[i % frames.length]!);
      for (let k = 0; k < 3; k++) frame[Math.floor(rand() * frame.length)] = Math.floor(rand() * 256);
      for (const [, decode] of decoders) {
        try {
          decode(frame, LIMIT);
        } catch (err) {
          expect(err, `bytes ${Buffer.from(frame).toString('hex')}`).toBeInstanceOf(ProtocolError);
        }
      }
    }
  });
});

/** Small deterministic generator (mulberry32), so a failing input can be reproduced. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
