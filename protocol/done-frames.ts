/**
 * A trivial map's result frames, `done` messages only, packed and read by hand (record-frames.ts
 * says why): the agent packs one per batch of results, the coordinator reads it.
 */
import { FrameReader } from './frame-reader.js';
import { FrameWriter } from './frame-writer.js';
import { isId, isPlainDone } from './hot-messages.js';
import { fixString, MAX_FRAME_MESSAGES, MAX_HAND_BYTES, recordDefinition } from './record-frames.js';

/** What {@link packDoneFrame} packs: `{ type: 'done', id, value, runMs }` and nothing more. */
export interface PlainDone {
  type: 'done';
  id: string;
  value: Uint8Array;
  runMs: number;
}

const DEFINITION = recordDefinition(['type', 'id', 'value', 'runMs']);
const DONE = fixString('done');

function plainDone(m: object): m is PlainDone {
  return isPlainDone(m) && (m as PlainDone).value.byteLength <= MAX_HAND_BYTES;
}

/** Packs a frame of plain `done` messages as the envelope would; null when `messages` is anything else. */
export function packDoneFrame(messages: readonly object[]): Buffer | null {
  const n = messages.length;
  if (n === 0 || n > MAX_FRAME_MESSAGES) return null;
  let size = 0;
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    if (!plainDone(m)) return null;
    size += 1 + DONE.length + 3 + 3 * m.id.length + 3 + m.value.byteLength + 9;
  }
  const w = new FrameWriter(size, n, DEFINITION);
  for (let i = 0; i < n; i++) {
    const m = messages[i] as PlainDone;
    w.record(i);
    w.raw(DONE);
    w.str(m.id);
    w.bin(m.value);
    w.num(m.runMs);
  }
  return w.done();
}

/**
 * Reads a frame of plain `done` messages (as {@link packDoneFrame} or msgpackr wrote it), each
 * checked as the `Done` schema would; null when the frame is anything else. Values view `data`.
 */
export function unpackDoneFrame(data: Uint8Array): PlainDone[] | null {
  const r = new FrameReader(data, DEFINITION);
  const n = r.count;
  if (n === 0) return null;
  const messages = new Array<PlainDone>(n);
  for (let i = 0; i < n; i++) {
    r.record(i);
    r.expect(DONE);
    const id = r.str();
    const value = r.bin();
    const runMs = r.num();
    if (r.bad || !isId(id)) return null;
    messages[i] = { type: 'done', id, value, runMs };
  }
  return r.ok ? messages : null;
}
