/**
 * A trivial map's task frames, `task` messages of the common form only, packed and read by hand
 * (record-frames.ts says why): the coordinator packs one per batch of tasks, the agent reads it.
 * The common form: no deps, no kept result, no gpus, not parked (taskMessage's keys, in its order).
 */
import type { Task } from './coordinator-messages.js';
import { readFrame, type FrameReader } from './frame-reader.js';
import { writeFrame, type FrameShape } from './frame-writer.js';
import { isId, isPlainTask, isTaskTimeout } from './hot-messages.js';
import { fixString, MAX_HAND_BYTES, recordDefinition } from './record-frames.js';

/** Longest export name packed by hand. */
const MAX_EXPORT_CHARS = 256;

function isExport(v: unknown): v is string | null {
  return v === null || (typeof v === 'string' && v.length <= MAX_EXPORT_CHARS);
}

const TASK: FrameShape<Task> = {
  definition: recordDefinition(['type', 'id', 'code', 'export', 'args', 'inline', 'chunk', 'timeoutMs', 'express', 'keep', 'deps']),
  type: fixString('task'),
  /** What the schema accepts (isPlainTask), with no deps, keep or parked, express set. */
  plain: (m): m is Task => {
    if (!isPlainTask(m)) return false;
    const t = m as Task;
    return t.keep === null && t.deps.length === 0 && t.parked === undefined && typeof t.express === 'boolean' && t.args.byteLength <= MAX_HAND_BYTES && isExport(t.export);
  },
  size: (m) => 3 * (3 + m.id.length + m.code.length + (m.export?.length ?? 0)) + 3 + m.args.byteLength + 5 + 5 + 1,
  write: (w, m) => {
    w.str(m.id);
    w.repeated(m.code);
    if (m.export === null) w.nil();
    else w.str(m.export);
    w.bin(m.args);
    w.bool(m.inline);
    w.bool(m.chunk);
    if (m.timeoutMs === null) w.nil();
    else w.num(m.timeoutMs);
    w.bool(m.express === true);
    w.nil();
    w.b[w.p++] = 0x90; // deps: []
  },
};

/** Packs a frame of common `task` messages as the envelope would; null when `messages` is anything else. */
export function packTaskFrame(messages: readonly object[]): Buffer | null {
  return writeFrame(messages, TASK);
}

function readTask(r: FrameReader): Task | null {
  const id = r.str();
  const code = r.repeated();
  const exportName = r.nil() ? null : r.str();
  const args = r.bin();
  const inline = r.bool();
  const chunk = r.bool();
  const timeoutMs = r.nil() ? null : r.num();
  const express = r.bool();
  if (!r.nil()) return null;
  r.empty();
  if (!isId(id) || !isId(code) || !isExport(exportName) || !isTaskTimeout(timeoutMs)) return null;
  return { type: 'task', id, code, export: exportName, args, inline, chunk, timeoutMs, express, keep: null, deps: [] };
}

/**
 * Reads a frame of common `task` messages (as {@link packTaskFrame} or msgpackr wrote it), each
 * checked as the `Task` schema would; null when the frame is anything else. Args view `data`.
 */
export function unpackTaskFrame(data: Uint8Array): Task[] | null {
  return readFrame(data, TASK.definition, TASK.type, readTask);
}
