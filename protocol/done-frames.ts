/**
 * A trivial map's result frames, `done` messages only, packed and read by hand (record-frames.ts
 * says why): the agent packs one per batch of results, the coordinator reads it.
 */
import { readFrame, type FrameReader } from './frame-reader.js';
import { writeFrame, type FrameShape } from './frame-writer.js';
import { isId, isPlainDone } from './hot-messages.js';
import { fixString, MAX_HAND_BYTES, recordDefinition } from './record-frames.js';

/** What {@link packDoneFrame} packs: `{ type: 'done', id, value, runMs }` and nothing more. */
export interface PlainDone {
  type: 'done';
  id: string;
  value: Uint8Array;
  runMs: number;
}

const DONE: FrameShape<PlainDone> = {
  definition: recordDefinition(['type', 'id', 'value', 'runMs']),
  type: fixString('done'),
  plain: (m): m is PlainDone => isPlainDone(m) && (m as PlainDone).value.byteLength <= MAX_HAND_BYTES,
  size: (m) => 3 + 3 * m.id.length + 3 + m.value.byteLength + 9,
  write: (w, m) => {
    w.str(m.id);
    w.bin(m.value);
    w.num(m.runMs);
  },
};

/** Packs a frame of plain `done` messages as the envelope would; null when `messages` is anything else. */
export function packDoneFrame(messages: readonly object[]): Buffer | null {
  return writeFrame(messages, DONE);
}

function readDone(r: FrameReader): PlainDone | null {
  const id = r.str();
  const value = r.bin();
  const runMs = r.num();
  return isId(id) ? { type: 'done', id, value, runMs } : null;
}

/**
 * Reads a frame of plain `done` messages (as {@link packDoneFrame} or msgpackr wrote it), each
 * checked as the `Done` schema would; null when the frame is anything else. Values view `data`.
 */
export function unpackDoneFrame(data: Uint8Array): PlainDone[] | null {
  return readFrame(data, DONE.definition, DONE.type, readDone);
}
