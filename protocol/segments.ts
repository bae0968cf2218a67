import { ProtocolError } from './errors.js';
import { CloseCode } from './version.js';

/**
 * A frame with segments on the wire: one WebSocket message `[0xc1][u32 n][n × f64 segment sizes]
 * [msgpack envelope]`, then each segment's bytes as they are, in order, in messages of at most the
 * socket's message limit (a segment longer than that is cut). 0xc1 is the one byte msgpack never
 * uses, so a frame without segments (the msgpack array alone, as in protocol version 1) cannot be
 * mistaken for one. Segments are never the first frame of a connection: a handshake is small.
 */
export const SEGMENTED_FRAME = 0xc1;

/** Most segments one frame may carry. */
export const MAX_SEGMENTS_PER_FRAME = 65_536;

/**
 * Segments leave in WebSocket messages of at most this many bytes. ws holds every read of a
 * message until its last byte and then copies them into one buffer: a 100 MB message kept 100 MB of
 * 64 KiB reads alive and was copied after the transfer. In 4 MiB pieces each one is put in place as
 * it arrives (overlapping the copy with the transfer), and the reads are garbage at once.
 */
export const SEGMENT_PIECE_BYTES = 4 * 1024 * 1024;

/**
 * Segments up to this size leave whole, in one WebSocket message: ws copies a message's reads into
 * one buffer once, and the receiver keeps that buffer as the segment, where pieces cost a second
 * copy (each piece is ws's copy, then put in place). Holding the reads of 16 MiB until the last one
 * costs little; past it the pieces' bounded memory and overlap win.
 */
export const SEGMENT_WHOLE_BYTES = 16 * 1024 * 1024;

/** The largest message a segment of `size` bytes leaves in, on a socket whose messages are at most `limit`. */
export function pieceBytes(size: number, limit: number): number {
  return size <= SEGMENT_WHOLE_BYTES ? limit : Math.min(limit, SEGMENT_PIECE_BYTES);
}

/** The first message of a frame with segments. */
export function segmentedHead(envelope: Uint8Array, segments: readonly Uint8Array[]): Buffer {
  const header = Buffer.allocUnsafe(5 + 8 * segments.length + envelope.byteLength);
  header[0] = SEGMENTED_FRAME;
  header.writeUInt32BE(segments.length, 1);
  for (let i = 0; i < segments.length; i++) header.writeDoubleBE(segments[i]!.byteLength, 5 + 8 * i);
  header.set(envelope, 5 + 8 * segments.length);
  return header;
}

/** The WebSocket messages of one segment: views of its bytes, none longer than `limit`. */
export function segmentMessages(segment: Uint8Array, limit: number): Uint8Array[] {
  if (segment.byteLength <= limit) return [segment];
  const out: Uint8Array[] = [];
  for (let at = 0; at < segment.byteLength; at += limit) out.push(segment.subarray(at, Math.min(at + limit, segment.byteLength)));
  return out;
}

/** A second copy of a received segment, made while it arrived (see {@link SegmentAssembler.start}'s `spares`). */
const spares = new WeakMap<Uint8Array, Uint8Array>();

/**
 * The spare copy of a segment `bytes` is (once: it is then the taker's alone), or null when none
 * was made (a socket without spares, a segment cut into no pieces, or taken already).
 */
export function takeSpare(bytes: Uint8Array): Uint8Array | null {
  const spare = spares.get(bytes);
  if (!spare) return null;
  spares.delete(bytes);
  return spare;
}

/**
 * Gathers the segments of one frame as their messages arrive. A segment that arrives in one
 * message is kept as that message (no copy); a cut one is put together in a buffer of its size.
 * With `spares`, each cut segment is also put together a second time, in a buffer of its own
 * (found with {@link takeSpare}): a receiver that needs two copies (one to keep, one to give away)
 * makes the second while the pieces arrive rather than after the last.
 */
export class SegmentAssembler {
  readonly segments: Uint8Array[] = [];
  private partial: Buffer | null = null;
  private spare: Buffer | null = null;
  private filled = 0;

  private constructor(
    readonly envelope: Uint8Array,
    private readonly sizes: readonly number[],
    private readonly withSpares: boolean,
  ) {}

  /** Reads the first message of a frame with segments. Throws {@link ProtocolError}. */
  static start(data: Uint8Array, maxFrameBytes: number, from: string, spares = false): SegmentAssembler {
    const bad = (why: string): ProtocolError => new ProtocolError(`a ${from} frame with segments ${why}`, CloseCode.protocolError);
    if (data.byteLength < 5) throw bad('is cut short');
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    const count = view.getUint32(1);
    if (count === 0 || count > MAX_SEGMENTS_PER_FRAME) throw bad(`announces ${count} segments (1 to ${MAX_SEGMENTS_PER_FRAME} may follow)`);
    const start = 5 + 8 * count;
    if (data.byteLength <= start) throw bad('is cut short');
    const sizes: number[] = new Array<number>(count);
    let total = data.byteLength - start;
    for (let i = 0; i < count; i++) {
      const size = view.getFloat64(5 + 8 * i);
      if (!Number.isSafeInteger(size) || size < 1) throw bad(`announces a segment of ${size} bytes`);
      sizes[i] = size;
      total += size;
    }
    if (total > maxFrameBytes) {
      throw new ProtocolError(`a ${from} frame of ${total} bytes exceeds the limit of ${maxFrameBytes} bytes`, CloseCode.tooBig, {
        hint: 'raise maxFrameBytes on both sides, or pass large data through shared storage',
      });
    }
    return new SegmentAssembler(data.subarray(start), sizes, spares);
  }

  /** Takes the next message; true once every segment is complete. Throws {@link ProtocolError}. */
  add(data: Buffer, from: string): boolean {
    const size = this.sizes[this.segments.length]!;
    if (this.partial === null && data.byteLength === size) {
      this.segments.push(data);
    } else {
      if (this.filled + data.byteLength > size) {
        throw new ProtocolError(`a ${from} frame's segment ${this.segments.length} runs past its announced ${size} bytes`, CloseCode.protocolError);
      }
      this.partial ??= Buffer.allocUnsafeSlow(size);
      this.partial.set(data, this.filled);
      if (this.withSpares) {
        this.spare ??= Buffer.allocUnsafeSlow(size);
        this.spare.set(data, this.filled);
      }
      this.filled += data.byteLength;
      if (this.filled === size) {
        this.segments.push(this.partial);
        if (this.spare) spares.set(this.partial, this.spare);
        this.partial = null;
        this.spare = null;
        this.filled = 0;
      }
    }
    return this.segments.length === this.sizes.length;
  }
}
