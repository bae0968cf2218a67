/**
 * The input classes every port gets, before and after its handshake: each class is a list of
 * cases, each case the frames of one connection. Port files add what only they have (forged
 * results, a second hello, shutdown).
 */
import { deepArray, MULTIBYTE, MULTIBYTE_NAMES, pack, randomMsgpackFrame, stringPaths, truncations, withValueAt, wrongShapeFrames, type Rng } from './generators.js';
import type { Frame, Message } from './model.js';
import { malformedFrames } from './ws-frames.js';

export interface CaseSpec {
  name: string;
  frames: Frame[];
}

export interface ClassOptions {
  /** One valid message per type; the handshake type carrying the right credential. */
  templates: Record<string, Message>;
  /** The type of the first message (hello, welcome, client-hello). */
  handshakeType: string;
  maxFrameBytes: number;
  /** Who sends: clients mask their frames, servers do not. */
  side: 'client' | 'server';
  /** Random cases per random class. */
  count: number;
}

/** Actual frames past the limit are sent only when the limit is small (a test sets it so). */
const MAX_REAL_OVERSIZE = 4 * 1024 * 1024;

export function protocolClasses(rng: Rng, o: ClassOptions): Map<string, CaseSpec[]> {
  const classes = new Map<string, CaseSpec[]>();
  const add = (cls: string, name: string, frames: Frame[]): void => {
    const list = classes.get(cls) ?? [];
    list.push({ name, frames });
    classes.set(cls, list);
  };
  const types = Object.keys(o.templates);
  const handshake = o.templates[o.handshakeType]!;

  for (let i = 0; i < o.count; i++) add('random bytes', `#${i}`, [{ binary: rng.bytes(rng.int(1, 512)) }]);

  const whole = pack([handshake, ...types.map((t) => o.templates[t]!)]);
  for (const cut of truncations(whole, rng, o.count)) add('truncated msgpack', `first ${cut.length} of ${whole.length} bytes`, [{ binary: cut }]);

  for (let i = 0; i < o.count; i++) add('random msgpack values', `#${i}`, [{ binary: randomMsgpackFrame(rng) }]);

  wrongShapeFrames(rng, o.templates, o.count * 2).forEach((value, i) => add('valid msgpack, wrong shapes', `#${i}`, [{ binary: pack(value) }]));
  add('valid msgpack, wrong shapes', `${65_537} messages in one frame`, [{ binary: pack(new Array(65_537).fill(null)) }]);

  // Every string field of every message type, `type` included: the euro string always (its
  // UTF-8 is three times its length), and one other hostile string picked by the seed.
  for (const type of types) {
    const template = o.templates[type]!;
    for (const path of stringPaths(template)) {
      for (const variant of new Set(['euro×64', rng.pick(MULTIBYTE_NAMES)])) {
        add('multi-byte strings in every string field', `${type}.${path.join('.')} = ${variant}`, [{ binary: pack([withValueAt(template, path, MULTIBYTE[variant])]) }]);
      }
    }
  }

  for (const protocol of [0, 2, -1, 1.5, '1', null, true, 'a'.repeat(200), '€'.repeat(64)]) {
    add('protocol version of a handshake message', `protocol = ${JSON.stringify(protocol).slice(0, 20)}`, [{ binary: pack([{ ...handshake, protocol }]) }]);
  }

  for (const type of ['nope', 'HELLO', `${o.handshakeType} `, '', '__proto__', 'constructor', 'toString', 'ping\u0000', 'a'.repeat(5_000), '€'.repeat(64)]) {
    add('unknown message types', JSON.stringify(type).slice(0, 24), [{ binary: pack([{ type }]) }]);
  }

  for (const text of ['', JSON.stringify([handshake]), '€'.repeat(64), '\uD800 lone', 'x'.repeat(10_000)]) add('text frames', JSON.stringify(text).slice(0, 24), [{ text }]);

  if (o.maxFrameBytes <= MAX_REAL_OVERSIZE) {
    add('oversized frames', 'maxFrameBytes + 1 bytes', [{ binary: Buffer.alloc(o.maxFrameBytes + 1, 0x91) }]);
    add('oversized frames', 'a valid message padded past maxFrameBytes', [{ binary: pack([{ ...handshake, pad: 'x'.repeat(o.maxFrameBytes) }]) }]);
    // At the limit ws lets it through and the decoder refuses it: the boundary is the limit's, not off by one.
    add('oversized frames', 'exactly maxFrameBytes of junk', [{ binary: Buffer.alloc(o.maxFrameBytes, 0xc1) }]);
  }
  for (const frame of malformedFrames(o.side, o.maxFrameBytes)) add('malformed WebSocket frames', frame.name, [{ raw: frame.bytes, code: frame.code }]);

  const deep = Math.min(50_000, o.maxFrameBytes - 16);
  add('deep nesting', `array ${deep} deep`, [{ binary: deepArray(deep) }]);
  add('deep nesting', 'array 1,000 deep', [{ binary: deepArray(1_000) }]);
  add('deep nesting', `map ${deep} deep`, [{ binary: Buffer.concat([Buffer.from([0x91]), Buffer.concat(Array(Math.floor(deep / 3)).fill(Buffer.from([0x81, 0xa1, 0x61]))), Buffer.from([0xc0])]) }]);
  return classes;
}
