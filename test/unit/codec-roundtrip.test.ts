// Valid frames: several messages per frame decode to exactly what was encoded, in order.
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_FRAME_BYTES,
  MAX_MESSAGES_PER_FRAME,
  PROTOCOL_VERSION,
  decodeAgentFrame,
  decodeCoordinatorFrame,
  encodeFrame,
  packValue,
  unpackValue,
  type AgentMessage,
  type CoordinatorMessage,
} from '../../protocol/index.js';

/** Bytes fields come back as Buffer; compare their contents as plain Uint8Array. */
function normalize<T>(messages: T[]): T[] {
  return messages.map((m) => {
    const copy: Record<string, unknown> = { ...(m as Record<string, unknown>) };
    for (const [k, v] of Object.entries(copy)) if (v instanceof Uint8Array) copy[k] = Array.from(v);
    return copy as T;
  });
}

describe('a frame from the coordinator', () => {
  const messages: CoordinatorMessage[] = [
    { type: 'welcome', protocol: PROTOCOL_VERSION, agentId: 'c1-a-0', heartbeatMs: 5_000, objectStoreBytes: 1024, objectSpillBytes: 0 },
    { type: 'code', hash: 'abc123', kind: 'function', source: '(a, b) => a + b' },
    { type: 'task', id: 't1', code: 'abc123', export: null, args: packValue([2, 3]), inline: false, chunk: false, timeoutMs: null, keep: null, deps: [] },
    { type: 'task', id: 't2', code: 'mod9', export: 'fib', args: packValue([[1], [2]]), inline: true, chunk: true, timeoutMs: 1_500, keep: 'obj-1', deps: [{ objectId: 'obj-0', from: ['127.0.0.1:9'] }] },
    { type: 'cancel', id: 't1' },
    { type: 'ping', t: 1_700_000_000_123.5 },
    { type: 'shutdown', reason: 'cluster closed' },
  ];

  it('decodes to the same messages, in order', () => {
    const decoded = decodeCoordinatorFrame(encodeFrame(messages), DEFAULT_MAX_FRAME_BYTES);
    expect(normalize(decoded)).toEqual(normalize(messages));
  });

  it('keeps argument bytes intact', () => {
    const decoded = decodeCoordinatorFrame(encodeFrame(messages), DEFAULT_MAX_FRAME_BYTES);
    const task = decoded[3];
    expect(task?.type).toBe('task');
    if (task?.type === 'task') expect(unpackValue(task.args)).toEqual([[1], [2]]);
  });
});

describe('a frame from an agent', () => {
  const messages: AgentMessage[] = [
    {
      type: 'hello', protocol: PROTOCOL_VERSION, token: 'x'.repeat(64), agentId: 'c1-a-0', jobId: '12345.login', host: 'node17',
      pid: 4242, cpus: 64, memoryBytes: 512 * 2 ** 30, node: 'v20.11.0', slots: 16, inlineConcurrency: 64, walltimeLeftMs: 3_600_000,
    },
    { type: 'done', id: 't1', value: packValue({ sum: 5, when: new Date(0) }), runMs: 0.25 },
    {
      type: 'failed', id: 't2', kind: 'exception',
      error: { name: 'Error', message: 'outer', stack: 'Error: outer\n    at f', cause: { name: 'TypeError', message: 'inner', code: 'E_INNER' } },
    },
    { type: 'failed', id: 't3', kind: 'timeout', error: { name: 'TimeoutError', message: 'ran too long' } },
    { type: 'log', id: 't1', stream: 'stdout', text: 'hello\nworld' },
    { type: 'log', id: null, stream: 'stderr', text: '' },
    { type: 'pong', t: 17, rssBytes: 50_000_000, running: 3, peerBytesIn: 1_000, peerBytesOut: 2_000 },
    { type: 'draining', reason: 'walltime ends soon' },
  ];

  it('decodes to the same messages, in order', () => {
    const decoded = decodeAgentFrame(encodeFrame(messages), DEFAULT_MAX_FRAME_BYTES);
    expect(normalize(decoded)).toEqual(normalize(messages));
  });

  it('keeps an error cause chain', () => {
    const [, , failed] = decodeAgentFrame(encodeFrame(messages), DEFAULT_MAX_FRAME_BYTES);
    expect(failed).toMatchObject({ type: 'failed', error: { message: 'outer', cause: { name: 'TypeError', message: 'inner', code: 'E_INNER' } } });
  });

  it('decodes a result value through packValue/unpackValue', () => {
    const [, done] = decodeAgentFrame(encodeFrame(messages), DEFAULT_MAX_FRAME_BYTES);
    expect(done?.type).toBe('done');
    if (done?.type === 'done') expect(unpackValue(done.value)).toEqual({ sum: 5, when: new Date(0) });
  });
});

describe('frame limits', () => {
  it('a frame exactly at the size limit is accepted', () => {
    const frame = encodeFrame([{ type: 'ping', t: 1 }]);
    expect(decodeCoordinatorFrame(frame, frame.length)).toEqual([{ type: 'ping', t: 1 }]);
  });

  it(`a frame of exactly ${MAX_MESSAGES_PER_FRAME} messages is accepted`, () => {
    const many = Array.from({ length: MAX_MESSAGES_PER_FRAME }, (_, i) => ({ type: 'ping' as const, t: i }));
    const decoded = decodeCoordinatorFrame(encodeFrame(many), DEFAULT_MAX_FRAME_BYTES);
    expect(decoded).toHaveLength(MAX_MESSAGES_PER_FRAME);
    expect(decoded[MAX_MESSAGES_PER_FRAME - 1]).toEqual({ type: 'ping', t: MAX_MESSAGES_PER_FRAME - 1 });
  });

  it('two frames encoded back to back do not share memory', () => {
    const first = encodeFrame([{ type: 'ping', t: 1 }]);
    encodeFrame([{ type: 'shutdown', reason: 'x'.repeat(100) }]);
    expect(decodeCoordinatorFrame(first, DEFAULT_MAX_FRAME_BYTES)).toEqual([{ type: 'ping', t: 1 }]);
  });
});
