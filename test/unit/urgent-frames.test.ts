// FramedSocket's urgent messages: an interactive task (or its result) leaves in a small frame of
// its own at the end of the current microtask queue, ahead of a batch whose flush waits for the
// end of the loop turn; the batch keeps its order and still leaves as one frame.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeCoordinatorFrame } from '../../protocol/index.js';
import type { CoordinatorMessage } from '../../protocol/coordinator-messages.js';
import { FramedSocket } from '../../protocol/framed-socket.js';

class FakeWire extends EventEmitter {
  binaryType = 'nodebuffer';
  readonly readyState = WebSocket.OPEN;
  readonly frames: number[][] = [];
  send(data: Uint8Array): void {
    this.frames.push(decodeCoordinatorFrame(data, 1 << 20).map((m) => (m.type === 'ping' ? m.t : -1)));
  }
  close(): void {}
  terminate(): void {}
}

function socket(wire: FakeWire, deferred: boolean): FramedSocket<never, CoordinatorMessage> {
  return new FramedSocket<never, CoordinatorMessage>(wire, { decode: () => [], maxFrameBytes: 1 << 20, deferFlush: () => deferred }, { messages: () => undefined, closed: () => undefined });
}

const ping = (t: number): CoordinatorMessage => ({ type: 'ping', t });

describe('urgent frames', () => {
  it('sends an urgent message at once, in its own frame, ahead of a deferred batch queued before it', async () => {
    const wire = new FakeWire();
    const s = socket(wire, true);
    s.send(ping(1));
    s.send(ping(2));
    s.send(ping(3), true);
    await Promise.resolve();
    expect(wire.frames).toEqual([[3]]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(wire.frames).toEqual([[3], [1, 2]]);
  });

  it('keeps urgent messages in their order, and a batch that was not deferred leaves in the same turn', async () => {
    const wire = new FakeWire();
    const s = socket(wire, false);
    s.send(ping(1));
    s.send(ping(2), true);
    s.send(ping(3), true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(wire.frames.flat().sort()).toEqual([1, 2, 3]);
    expect(wire.frames.find((f) => f.includes(2))).toEqual([2, 3]);
  });

  it('flushes urgent and batched messages before a close', () => {
    const wire = new FakeWire();
    const s = socket(wire, true);
    s.send(ping(1));
    s.send(ping(2), true);
    s.close(1000, 'done');
    expect(wire.frames).toEqual([[2], [1]]);
  });
});
