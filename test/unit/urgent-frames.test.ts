// FramedSocket's urgent messages: an interactive task (or its result) does not wait for a batch's
// flush deferred to the end of the loop turn; it leaves at the end of the current microtask queue
// with what was queued before it, in order (a task's output before its result, code first).
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
  it('sends an urgent message at once with what was queued before it, in order, not waiting for a deferred batch', async () => {
    const wire = new FakeWire();
    const s = socket(wire, true);
    s.send(ping(1));
    s.send(ping(2));
    s.send(ping(3), true);
    await Promise.resolve();
    expect(wire.frames).toEqual([[1, 2, 3]]);
    s.send(ping(4));
    await new Promise((resolve) => setImmediate(resolve));
    expect(wire.frames).toEqual([[1, 2, 3], [4]]);
  });

  it('a deferred batch with no urgent message waits for the end of the loop turn', async () => {
    const wire = new FakeWire();
    const s = socket(wire, true);
    s.send(ping(1));
    await Promise.resolve();
    expect(wire.frames).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(wire.frames).toEqual([[1]]);
  });

  it('flushes urgent and batched messages before a close', () => {
    const wire = new FakeWire();
    const s = socket(wire, true);
    s.send(ping(1));
    s.send(ping(2), true);
    s.close(1000, 'done');
    expect(wire.frames).toEqual([[1, 2]]);
  });
});
