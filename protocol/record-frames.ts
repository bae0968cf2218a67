/**
 * Frames of one message shape, packed and read by hand: the msgpack bytes the envelope's packr
 * (envelope.ts: records on, byte views as bin) writes for an array of messages that share one
 * shape, without msgpackr's generic walk. done-frames.ts and task-frames.ts use it for the two
 * messages of every task. Why: per message msgpackr's walk (its extension hook for every byte
 * view included) cost about a microsecond, and its reader compiles a new function for a frame's
 * record shape after three uses: records do not carry from one frame to the next, so every frame
 * of a trivial map paid a compile and ran fresh, unoptimised code (issue 16).
 * A reader accepts only what it is sure of; anything else, or odd, is left to msgpackr (null).
 * The writer is frame-writer.ts, the reader frame-reader.ts; this file holds what both know.
 */

/** Most messages one frame may carry (envelope.ts MAX_MESSAGES_PER_FRAME). */
export const MAX_FRAME_MESSAGES = 65_536;
/** Byte views this large go through msgpackr (they may be a frame's raw segments: binary.ts SEGMENT_MIN_BYTES). */
export const MAX_HAND_BYTES = 16 * 1024;
/** Ids are 1 to 128 characters (protocol `Id`). */
export const MAX_ID_CHARS = 128;

/** The record id msgpackr gives a frame's first shape; each later message of it starts with this byte. */
export const RECORD_ID = 0x40;

/**
 * The bytes msgpackr writes at a record shape's first use: fixext 1 'r' (0x72), the record id,
 * the array of its keys.
 */
export function recordDefinition(keys: readonly string[]): Buffer {
  const bytes = [0xd4, 0x72, RECORD_ID, 0x90 | keys.length];
  for (const key of keys) bytes.push(0xa0 | key.length, ...Buffer.from(key, 'latin1'));
  return Buffer.from(bytes);
}

/** A short ASCII string's msgpack bytes (a message's `type`). */
export function fixString(s: string): Buffer {
  return Buffer.from([0xa0 | s.length, ...Buffer.from(s, 'latin1')]);
}
