// Segments up to SEGMENT_WHOLE_BYTES leave a FramedSocket as one message that the receiver keeps as
// the segment (ws's one copy, no second); larger ones leave in pieces of at most SEGMENT_PIECE_BYTES
// and are put together exact on arrival (so the receiver copies each piece as it comes instead of
// ws holding the whole message first); a receiver with spares gets a second, distinct copy made as
// the pieces arrived, taken once. Two FramedSockets joined by an in-memory wire that delivers each message as
// a fresh Buffer, as ws does.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeCoordinatorFrame, packValue } from '../../protocol/index.js';
import type { CoordinatorMessage } from '../../protocol/coordinator-messages.js';
import { FramedSocket } from '../../protocol/framed-socket.js';
import { SEGMENT_PIECE_BYTES, SEGMENT_WHOLE_BYTES, takeSpare } from '../../protocol/segments.js';

const LIMIT = 1 << 30;

class Wire extends EventEmitter {
  binaryType = 'nodebuffer';
  readonly readyState = WebSocket.OPEN;
  peer: Wire | null = null;
  readonly sizes: number[] = [];
  /** What the peer was handed, message by message. */
  readonly delivered: Buffer[] = [];
  send(data: Uint8Array): void {
    this.sizes.push(data.byteLength);
    const copy = Buffer.from(data);
    this.delivered.push(copy);
    this.peer!.emit('message', copy, true);
  }
  close(): void {}
  terminate(): void {}
}

function pair(spareSegments: boolean): { out: FramedSocket<never, CoordinatorMessage>; wire: Wire; received: CoordinatorMessage[] } {
  const a = new Wire();
  const b = new Wire();
  a.peer = b;
  b.peer = a;
  const received: CoordinatorMessage[] = [];
  const ignore = { messages: () => undefined, closed: () => undefined };
  const out = new FramedSocket<never, CoordinatorMessage>(a, { decode: () => [], maxFrameBytes: LIMIT }, ignore);
  new FramedSocket<CoordinatorMessage, never>(b, { decode: (d, s) => decodeCoordinatorFrame(d, LIMIT, s), maxFrameBytes: LIMIT, spareSegments }, { messages: (m) => received.push(...m), closed: () => undefined });
  return { out, wire: a, received };
}

function task(id: string, args: Uint8Array): CoordinatorMessage {
  return { type: 'task', id, code: 'h', export: null, args, inline: false, chunk: false, timeoutMs: null, keep: null, deps: [] };
}

// Past the whole-message limit by two and a half pieces: whole pieces and a short one.
const big = packValue(new Float64Array((SEGMENT_WHOLE_BYTES + 2.5 * SEGMENT_PIECE_BYTES) / 8).map((_, i) => i * 0.75));
// 10 MiB and a bit (the bench's 10 MB value): one message.
const mid = packValue(new Float64Array((2.5 * SEGMENT_PIECE_BYTES) / 8).map((_, i) => i * 0.25));

function sendBig(spares: boolean, value = big): { args: Uint8Array; sizes: number[]; delivered: Buffer[] } {
  const { out, wire, received } = pair(spares);
  out.send({ type: 'ping', t: 1 }); // the first frame of a connection has no segments
  out.flush();
  out.send(task('t1', value));
  out.flush();
  const got = received.find((m) => m.type === 'task');
  if (got?.type !== 'task') throw new Error('no task arrived');
  return { args: got.args, sizes: wire.sizes, delivered: wire.delivered };
}

describe('whole segments', () => {
  it('a segment up to SEGMENT_WHOLE_BYTES leaves as one message, and the receiver keeps that message as it came', () => {
    const { args, sizes, delivered } = sendBig(false, mid);
    expect(sizes.filter((n) => n > 64 * 1024)).toEqual([mid.byteLength]);
    expect(args).toBe(delivered.at(-1));
    expect(Buffer.compare(args, mid)).toBe(0);
    // a buffer of its own, so the agent can move it into a worker thread
    expect(args.byteOffset).toBe(0);
    expect(args.byteLength).toBe(args.buffer.byteLength);
  });
});

describe('segments in pieces', () => {
  it('a large segment leaves in messages of at most SEGMENT_PIECE_BYTES and arrives exact', () => {
    const { args, sizes } = sendBig(false);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(SEGMENT_PIECE_BYTES);
    expect(sizes.filter((n) => n > 64 * 1024)).toHaveLength(Math.ceil(big.byteLength / SEGMENT_PIECE_BYTES));
    expect(args.byteLength).toBe(big.byteLength);
    expect(Buffer.compare(args, big)).toBe(0);
    // without spares, none is made
    expect(takeSpare(args)).toBeNull();
  });

  it('with spares, the receiver also gets a distinct exact copy, taken once', () => {
    const { args, sizes } = sendBig(true);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(SEGMENT_PIECE_BYTES);
    const spare = takeSpare(args);
    expect(spare).not.toBeNull();
    expect(spare!.buffer).not.toBe(args.buffer);
    expect(Buffer.compare(spare!, big)).toBe(0);
    expect(takeSpare(args)).toBeNull();
    // changing the spare (a task's own copy) leaves the kept bytes as they came
    spare!.fill(7);
    expect(Buffer.compare(args, big)).toBe(0);
  });
});
