import WebSocket from 'ws';
import { closeSocket, type WireSocket } from './close.js';
import { encodeSegmented, MAX_MESSAGES_PER_FRAME } from './envelope.js';
import { ProtocolError } from './errors.js';
import { pieceBytes, SEGMENTED_FRAME, SegmentAssembler, segmentedHead, segmentMessages } from './segments.js';
import { CloseCode, wsMessageLimit } from './version.js';

/** What the owner of a framed socket hears. */
export interface FramedSocketHandlers<In, Out> {
  /** The messages of one frame, decoded and validated, in order. */
  messages(messages: In[]): void;
  /** The connection is gone (once): closed by either side, terminated, or broken. */
  closed(info: CloseInfo): void;
  /** A frame did not decode or validate; the socket is being closed with `error.closeCode`. */
  invalid?(error: ProtocolError): void;
  /** One message alone was larger than a frame may be; it was not sent. */
  oversize?(message: Out, bytes: number): void;
}

export interface WriteGuard {
  /** A message was queued in an empty outbox: it leaves with the next write. */
  queued(): void;
  write(send: () => void): void;
}

export interface CloseInfo {
  code: number;
  reason: string;
  /** True when this side closed it. */
  local: boolean;
}

export interface FramedSocketOptions<In> {
  /** Decodes and validates one frame (its envelope, and the segments that followed it). Throws {@link ProtocolError}. */
  decode(data: Uint8Array, segments?: readonly Uint8Array[]): In[];
  /** Largest frame (messages and segments) sent or accepted, bytes. */
  maxFrameBytes: number;
  /** Largest frame accepted, when it differs from the largest sent (a peer that only asks). */
  maxInboundFrameBytes?: number;
  /**
   * True while more messages are about to follow (work is queued): the batch then waits for the
   * end of this loop turn (setImmediate) and leaves as fewer, bigger frames. Otherwise it leaves
   * at the end of the current microtask queue.
   */
  deferFlush?(): boolean;
  /**
   * An owner whose socket other threads write to too (agent/thread-writes.ts): hears when a
   * message is queued (their frames must not overtake it), and runs every write of this socket's
   * frames and its close, taking turns with them. Default: none, writes go directly.
   */
  writeGuard?: WriteGuard;
  /**
   * Received segments cut into pieces are also put together a second time as they arrive, for a
   * receiver that keeps one copy and gives the other away (segments.ts `takeSpare`). Default false.
   */
  spareSegments?: boolean;
}

/**
 * One WebSocket carrying msgpack frames of several messages, for every clustrix connection
 * (agent ↔ coordinator, client ↔ service): batches what is sent in one tick into one frame (cut
 * by size and count), decodes and validates at the edge, and closes with a documented code and a
 * reason that fits a close frame. Nothing a peer sends can make it throw: a bad frame closes the
 * connection, and an exception from the owner's handler closes it with 1011.
 * Large byte views inside messages (packed values) travel beside the msgpack as raw segments
 * (segments.ts): sent from the sender's own bytes, whole or in pieces; kept as ws delivers a whole
 * one, put together as the pieces of a cut one arrive; never copied into or out of an envelope.
 * States: open → closed (by either side; reported once through `closed`).
 */
export class FramedSocket<In, Out extends object> {
  private outbox: Out[] = [];
  private flushQueued = false;
  private urgentFlushQueued = false;
  private isClosed = false;
  private heard = Date.now();
  private deferFlush: (() => boolean) | undefined;
  /** The frame whose segments are arriving. */
  private assembling: SegmentAssembler | null = null;
  /** Frames received so far (the first, a handshake, may not have segments). */
  private frames = 0;
  /** Bytes of frames received and sent (for metrics). */
  bytesIn = 0;
  bytesOut = 0;

  constructor(
    private readonly ws: WireSocket,
    private readonly options: FramedSocketOptions<In>,
    private handlers: FramedSocketHandlers<In, Out>,
  ) {
    this.deferFlush = options.deferFlush;
    ws.binaryType = 'nodebuffer';
    ws.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
    ws.on('close', (code: number, reason: Buffer) => this.report({ code, reason: reason.toString(), local: false }));
    // 'close' always follows an 'error', and decides.
    ws.on('error', () => undefined);
  }

  /** Hands the socket to a new owner (e.g. from the handshake to the connection it authenticated). */
  setHandlers(handlers: FramedSocketHandlers<In, Out>): void {
    this.handlers = handlers;
  }

  /** Sets when batches wait for the end of the loop turn (see {@link FramedSocketOptions.deferFlush}). */
  setDeferFlush(deferFlush: () => boolean): void {
    this.deferFlush = deferFlush;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** When the peer last sent a frame (Date.now() ms): heartbeats compare against it. */
  get lastHeard(): number {
    return this.heard;
  }

  /** The peer's address, for logs. */
  get remoteAddress(): string {
    const socket = (this.ws as unknown as { _socket?: { remoteAddress?: string } })._socket;
    return socket?.remoteAddress ?? '?';
  }

  /**
   * Queues a message; everything queued in one tick leaves as one frame. An `urgent` one (an
   * interactive task or its result) does not wait for a deferred flush: it leaves at the end of
   * this microtask queue with what was queued before it, in order (a task's output before its
   * result, code and values before the task that needs them). False once closed.
   */
  send(message: Out, urgent = false): boolean {
    if (this.isClosed) return false;
    this.outbox.push(message);
    if (this.outbox.length === 1) this.options.writeGuard?.queued();
    if (urgent) {
      if (!this.urgentFlushQueued) {
        this.urgentFlushQueued = true;
        queueMicrotask(this.flushUrgent);
      }
      return true;
    }
    if (!this.flushQueued) {
      this.flushQueued = true;
      if (this.deferFlush?.()) setImmediate(this.flush);
      else queueMicrotask(this.flush);
    }
    return true;
  }

  /** Sends what is queued now. */
  readonly flush = (): void => {
    this.flushQueued = false;
    this.writeOutbox();
  };

  /** An urgent message's flush; a deferred flush still queued finds the outbox empty or newer. */
  private readonly flushUrgent = (): void => {
    this.urgentFlushQueued = false;
    this.writeOutbox();
  };

  private writeOutbox(): void {
    if (this.outbox.length === 0) return;
    const batch = this.outbox;
    this.outbox = [];
    this.writeAll(batch);
  }

  private writeAll(batch: Out[]): void {
    if (this.isClosed || this.ws.readyState !== WebSocket.OPEN) return;
    const write = (): void => {
      for (let i = 0; i < batch.length; i += MAX_MESSAGES_PER_FRAME) this.write(batch.slice(i, i + MAX_MESSAGES_PER_FRAME));
    };
    if (this.options.writeGuard) this.options.writeGuard.write(write);
    else write();
  }

  /** Sends what is queued, then closes with `code`; the reason is cut to fit. Idempotent. */
  close(code: number, reason: string): void {
    if (this.isClosed) return;
    this.flush();
    if (this.options.writeGuard) this.options.writeGuard.write(() => closeSocket(this.ws, code, reason));
    else closeSocket(this.ws, code, reason);
    this.report({ code, reason, local: true });
  }

  /** Drops the connection without a closing handshake (a peer that misbehaves). */
  terminate(reason: string): void {
    if (this.isClosed) return;
    this.ws.terminate();
    this.report({ code: 1006, reason, local: true });
  }

  private write(batch: Out[]): void {
    const { head, segments } = encodeSegmented(batch);
    const limit = wsMessageLimit(this.options.maxFrameBytes);
    if (segments.length === 0 && head.byteLength <= limit) {
      this.bytesOut += head.byteLength;
      this.ws.send(head);
      return;
    }
    let total = head.byteLength + 5 + 8 * segments.length;
    for (const s of segments) total += s.byteLength;
    if (total <= this.options.maxFrameBytes && head.byteLength + 5 + 8 * segments.length <= limit) {
      this.bytesOut += total;
      this.ws.send(segmentedHead(head, segments));
      for (const s of segments) for (const m of segmentMessages(s, pieceBytes(s.byteLength, limit))) this.ws.send(m);
      return;
    }
    if (batch.length === 1) {
      this.handlers.oversize?.(batch[0]!, total);
      return;
    }
    const half = batch.length >>> 1;
    this.write(batch.slice(0, half));
    this.write(batch.slice(half));
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.isClosed) return;
    this.heard = Date.now();
    this.bytesIn += data.byteLength;
    let messages: In[];
    try {
      if (!isBinary) throw new ProtocolError('a text frame arrived; the protocol is binary msgpack', CloseCode.protocolError);
      if (this.assembling) {
        if (!this.assembling.add(data, 'peer')) return;
        const { envelope, segments } = this.assembling;
        this.assembling = null;
        messages = this.options.decode(envelope, segments);
      } else if (data[0] === SEGMENTED_FRAME && this.frames > 0) {
        this.assembling = SegmentAssembler.start(data, this.options.maxInboundFrameBytes ?? this.options.maxFrameBytes, 'peer', this.options.spareSegments === true);
        return;
      } else {
        messages = this.options.decode(data);
      }
      this.frames++;
    } catch (err) {
      const error = err instanceof ProtocolError ? err : new ProtocolError(`a frame could not be decoded: ${String(err)}`, CloseCode.protocolError);
      this.guard(() => this.handlers.invalid?.(error));
      this.close(error.closeCode, error.message);
      return;
    }
    this.guard(() => this.handlers.messages(messages));
  }

  private report(info: CloseInfo): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.outbox = [];
    this.assembling = null;
    this.guard(() => this.handlers.closed(info));
  }

  /**
   * Runs `run` as the handlers run (and an owner's work it resumes later, outside them): an owner's
   * bug on some odd but valid input must cost that connection (closed with 1011), not the process.
   */
  guard(run: () => void): void {
    try {
      run();
    } catch (err) {
      process.emitWarning(`clustrix: a message handler failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      this.close(CloseCode.internalError, `internal error: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
