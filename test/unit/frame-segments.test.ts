// Frames with segments (protocol/segments.ts) fed as raw WebSocket messages: large byte views
// leave the envelope as raw segments and come back as the same bytes, cut into several messages or
// not; a frame that announces what it cannot be is a ProtocolError with the documented close code.
import { describe, expect, it } from 'vitest';
import { CloseCode, ProtocolError, PROTOCOL_VERSION, decodeCoordinatorFrame, packValue, unpackValue } from '../../protocol/index.js';
import { encodeSegmented } from '../../protocol/codec.js';
import { SEGMENT_MIN_BYTES } from '../../protocol/binary.js';
import { SEGMENTED_FRAME, SegmentAssembler, segmentedHead, segmentMessages } from '../../protocol/segments.js';

const LIMIT = 1 << 30;

function task(id: string, args: Uint8Array) {
  return { type: 'task' as const, id, code: 'h', export: null, args, inline: false, chunk: false, timeoutMs: null, keep: null, deps: [] };
}

/** The WebSocket messages a FramedSocket would send for `messages`, with messages of at most `limit` bytes. */
function wire(messages: object[], limit: number): Buffer[] {
  const { head, segments } = encodeSegmented(messages);
  if (segments.length === 0) return [head];
  return [segmentedHead(head, segments), ...segments.flatMap((s) => segmentMessages(s, limit).map((m) => Buffer.from(m.buffer, m.byteOffset, m.byteLength)))];
}

/** Receives the messages as a FramedSocket does (after its first frame). */
function receive(messages: Buffer[]) {
  const [first, ...rest] = messages;
  if (first![0] !== SEGMENTED_FRAME) return decodeCoordinatorFrame(first!, LIMIT);
  const assembler = SegmentAssembler.start(first!, LIMIT, 'test');
  let done = false;
  for (const m of rest) done = assembler.add(m, 'test');
  expect(done).toBe(true);
  return decodeCoordinatorFrame(assembler.envelope, LIMIT, assembler.segments);
}

function protocolError(run: () => unknown): ProtocolError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return err as ProtocolError;
  }
  throw new Error('expected a ProtocolError');
}

describe('frames with segments', () => {
  const big = new Float64Array(SEGMENT_MIN_BYTES / 4).map((_, i) => i * 1.5); // 128 KiB of values
  const args = packValue([big, 'tag']);

  it('small values stay in the envelope: one message, plain msgpack as in version 1', () => {
    const messages = wire([task('t1', packValue([1, 2]))], LIMIT);
    expect(messages).toHaveLength(1);
    expect(messages[0]![0]).not.toBe(SEGMENTED_FRAME);
  });

  it('a large value travels as a segment and decodes to the same bytes and value', () => {
    const messages = wire([task('t1', packValue([1])), task('t2', args), task('t3', packValue([3]))], LIMIT);
    expect(messages).toHaveLength(2);
    expect(messages[1]!.byteLength).toBe(args.byteLength);
    const decoded = receive(messages);
    expect(decoded.map((m) => (m.type === 'task' ? m.id : m.type))).toEqual(['t1', 't2', 't3']);
    const t2 = decoded[1]!;
    if (t2.type !== 'task') throw new Error('not a task');
    expect(Buffer.compare(t2.args, args)).toBe(0);
    expect(unpackValue(t2.args)).toEqual([big, 'tag']);
  });

  it('a segment longer than the message limit is cut and put together again', () => {
    const messages = wire([task('t2', args)], 10_000);
    expect(messages.length).toBe(1 + Math.ceil(args.byteLength / 10_000));
    const t2 = receive(messages)[0]!;
    if (t2.type !== 'task') throw new Error('not a task');
    expect(Buffer.compare(t2.args, args)).toBe(0);
  });

  it('the segment is sent from the sender’s bytes, not a copy', () => {
    const { segments } = encodeSegmented([task('t2', args)]);
    expect(segments[0]!.buffer).toBe(args.buffer);
  });

  it('an announcement of no segments, too many, or of sizes that are not byte counts is refused with 4000', () => {
    const head = (count: number, sizes: number[]): Buffer => {
      const b = Buffer.alloc(5 + 8 * sizes.length + 1, 0x90);
      b[0] = SEGMENTED_FRAME;
      b.writeUInt32BE(count, 1);
      sizes.forEach((s, i) => b.writeDoubleBE(s, 5 + 8 * i));
      return b;
    };
    for (const [count, sizes] of [[0, []], [70_000, [1]], [1, [0]], [1, [-5]], [1, [1.5]], [1, [Number.NaN]]] as [number, number[]][]) {
      expect(protocolError(() => SegmentAssembler.start(head(count, sizes), LIMIT, 'test')).closeCode).toBe(CloseCode.protocolError);
    }
    expect(protocolError(() => SegmentAssembler.start(Buffer.from([SEGMENTED_FRAME, 0, 0]), LIMIT, 'test')).closeCode).toBe(CloseCode.protocolError);
  });

  it('segments announced past the frame limit are refused with 1009 before any arrives', () => {
    const [first] = wire([task('t2', args)], LIMIT);
    expect(protocolError(() => SegmentAssembler.start(first!, args.byteLength, 'test')).closeCode).toBe(CloseCode.tooBig);
  });

  it('a segment message longer than announced is refused with 4000', () => {
    const [first] = wire([task('t2', args)], LIMIT);
    const assembler = SegmentAssembler.start(first!, LIMIT, 'test');
    assembler.add(Buffer.alloc(100), 'test');
    expect(protocolError(() => assembler.add(Buffer.alloc(args.byteLength), 'test')).closeCode).toBe(CloseCode.protocolError);
  });

  it('an envelope that refers to a segment it was not sent, or leaves one unused, is refused with 4000', () => {
    const { head } = encodeSegmented([task('t2', args)]);
    expect(protocolError(() => decodeCoordinatorFrame(head, LIMIT)).closeCode).toBe(CloseCode.protocolError);
    const plain = wire([task('t1', packValue([1]))], LIMIT)[0]!;
    expect(protocolError(() => decodeCoordinatorFrame(plain, LIMIT, [Buffer.alloc(8)])).closeCode).toBe(CloseCode.protocolError);
  });

  it('the welcome, a handshake, never has segments: version checks see version-1-shaped frames', () => {
    const messages = wire([{ type: 'welcome', protocol: PROTOCOL_VERSION, agentId: 'a', heartbeatMs: 1000, objectStoreBytes: 0, objectSpillBytes: 0 }], LIMIT);
    expect(messages).toHaveLength(1);
    expect(messages[0]![0]).toBe(0x91); // a msgpack array of one message
  });
});

describe('typed arrays in values', () => {
  it('a large typed array packs 8-aligned and unpacks to an equal array of the same type', () => {
    for (const make of [(n: number) => new Float64Array(n).map((_, i) => i / 3), (n: number) => new Int16Array(n).map((_, i) => i), (n: number) => new BigInt64Array(n).map((_, i) => BigInt(i))]) {
      const value = make(4096);
      const back = unpackValue(packValue({ value, after: 'x' })) as { value: typeof value; after: string };
      expect(back.value.constructor).toBe(value.constructor);
      expect(back.value).toEqual(value);
      expect(back.after).toBe('x');
    }
  });
});
