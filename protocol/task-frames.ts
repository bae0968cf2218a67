/**
 * A trivial map's task frames, `task` messages of the common form only, packed and read by hand
 * (record-frames.ts says why): the coordinator packs one per batch of tasks, the agent reads it.
 * The common form: no deps, no kept result, no gpus, not parked (taskMessage's keys, in its order).
 */
import type { Task } from './coordinator-messages.js';
import { FrameReader } from './frame-reader.js';
import { FrameWriter } from './frame-writer.js';
import { isId, isPlainTask, isTaskTimeout } from './hot-messages.js';
import { fixString, MAX_FRAME_MESSAGES, MAX_HAND_BYTES, recordDefinition } from './record-frames.js';

const KEYS = ['type', 'id', 'code', 'export', 'args', 'inline', 'chunk', 'timeoutMs', 'express', 'keep', 'deps'] as const;
const DEFINITION = recordDefinition(KEYS);
const TASK = fixString('task');
/** Longest export name packed by hand. */
const MAX_EXPORT_CHARS = 256;

function isExport(v: unknown): v is string | null {
  return v === null || (typeof v === 'string' && v.length <= MAX_EXPORT_CHARS);
}

/** The common form: what the schema accepts (isPlainTask), with no deps, keep or parked, express set. */
function plainTask(m: object): m is Task {
  if (!isPlainTask(m)) return false;
  const t = m as Task;
  return t.keep === null && t.deps.length === 0 && t.parked === undefined && typeof t.express === 'boolean' && t.args.byteLength <= MAX_HAND_BYTES && isExport(t.export);
}

/** Packs a frame of common `task` messages as the envelope would; null when `messages` is anything else. */
export function packTaskFrame(messages: readonly object[]): Buffer | null {
  const n = messages.length;
  if (n === 0 || n > MAX_FRAME_MESSAGES) return null;
  let size = 0;
  for (let i = 0; i < n; i++) {
    const m = messages[i]!;
    if (!plainTask(m)) return null;
    size += 1 + TASK.length + 3 * (3 + m.id.length + m.code.length + (m.export?.length ?? 0)) + 3 + m.args.byteLength + 5 + 5 + 1;
  }
  const w = new FrameWriter(size, n, DEFINITION);
  for (let i = 0; i < n; i++) {
    const m = messages[i] as Task;
    w.record(i);
    w.raw(TASK);
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
  }
  return w.done();
}

/**
 * Reads a frame of common `task` messages (as {@link packTaskFrame} or msgpackr wrote it), each
 * checked as the `Task` schema would; null when the frame is anything else. Args view `data`.
 */
export function unpackTaskFrame(data: Uint8Array): Task[] | null {
  const r = new FrameReader(data, DEFINITION);
  const n = r.count;
  if (n === 0) return null;
  const messages = new Array<Task>(n);
  for (let i = 0; i < n; i++) {
    r.record(i);
    r.expect(TASK);
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
    if (r.bad || !isId(id) || !isId(code) || !isExport(exportName) || !isTaskTimeout(timeoutMs)) return null;
    messages[i] = { type: 'task', id, code, export: exportName, args, inline, chunk, timeoutMs, express, keep: null, deps: [] };
  }
  return r.ok ? messages : null;
}
