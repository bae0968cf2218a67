import { writeSync } from 'node:fs';
import { packDoneFrame } from '../protocol/done-frames.js';
import type { WriteGuard } from '../protocol/framed-socket.js';

/**
 * A worker thread writes a lone task's `done` frame to the coordinator's socket itself, instead
 * of posting the result to the agent's main thread to send. On this kind of machine the time of a
 * round trip is the number of sleeping threads woken in turn, more than the code (issue 16): the
 * post woke the main thread only for it to write the frame, and with both threads on one vCPU the
 * port's lock (held while it signals) made them switch two more times. The result is still posted
 * afterwards, marked sent, for the main thread's bookkeeping; that wake-up no longer delays the
 * caller.
 *
 * Both threads write the one socket, each frame in one write(2), so they take turns through a
 * lock in shared memory. A thread writes only while the main thread has no bytes queued in the
 * socket (else its frame would overtake them), over plain TCP (a TLS socket's bytes are
 * encrypted in the main thread), and while the descriptor is the connection's: the main thread
 * clears it, under the lock, before the socket's handle closes it (a reused number would be
 * another file's).
 *
 * Layout of the shared Int32Array: see the indexes below.
 */
const LOCK = 0;
/** The socket's descriptor, -1 while threads may not write (not connected, TLS, closing). */
const FD = 1;
/**
 * 1 while the main thread has messages queued for its next frame, or bytes its socket has not
 * written yet: a thread's frame would overtake them (a kept value's notice, say, before the
 * result of the task that used it).
 */
const QUEUED = 2;
/** 1 once a thread's frame was cut short and could not be completed: the connection must be dropped. */
const BROKEN = 3;
const WORDS = 4;

/**
 * A frame a thread writes: its payload at most this long (larger results go through the main
 * thread). Small, so that the socket takes it whole or not at all (EAGAIN: the main thread sends
 * it) all but always: a frame cut short holds the lock, and the main thread's writes, until the
 * rest is written.
 */
export const MAX_THREAD_FRAME_BYTES = 1024;
/** How long a thread keeps trying to complete a frame the socket took only part of, ms. */
const COMPLETE_WITHIN_MS = 2_000;

/** The raw socket under ws, as far as this file needs it (Node internals: `_handle.fd`, `_handle.close`). */
interface RawSocket {
  encrypted?: boolean;
  writableLength: number;
  _handle?: { fd?: number; close?: (...args: unknown[]) => unknown } | null;
  on(event: 'drain', listener: () => void): unknown;
}

function lock(words: Int32Array): void {
  // The holder writes one small frame: a wait here lasts microseconds.
  while (Atomics.compareExchange(words, LOCK, 0, 1) !== 0) Atomics.wait(words, LOCK, 1, 1);
}

function unlock(words: Int32Array): void {
  Atomics.store(words, LOCK, 0);
  Atomics.notify(words, LOCK, 1);
}

/** The main thread's side: which socket threads may write to, and its own writes taking turns with theirs. */
export class ThreadWrites implements WriteGuard {
  readonly shared = new SharedArrayBuffer(WORDS * 4);
  private readonly words = new Int32Array(this.shared);
  private raw: RawSocket | null = null;
  /**
   * True while the main thread holds the lock (its write runs): a close of the socket inside that
   * write (ws.terminate() when a close fails) takes the descriptor back without taking the lock again.
   */
  private holding = false;

  constructor(private readonly enabled: boolean) {
    this.words[FD] = -1;
  }

  /** Threads may write to this connection's socket (`ws._socket`), when it is plain TCP. */
  attach(socket: unknown): void {
    this.detach();
    const raw = socket as RawSocket | undefined;
    const handle = raw?._handle;
    const fd = handle?.fd;
    if (!this.enabled || !raw || raw.encrypted || !handle || typeof fd !== 'number' || fd < 0 || typeof handle.close !== 'function') return;
    // Every close of the descriptor goes through the handle's close(): the threads lose it first.
    const close = handle.close;
    handle.close = (...args: unknown[]) => {
      if (this.raw === raw) this.detach();
      return close.apply(handle, args);
    };
    raw.on('drain', () => {
      if (this.raw !== raw) return;
      this.locked(() => {
        this.words[QUEUED] = raw.writableLength > 0 ? 1 : 0;
      });
    });
    this.raw = raw;
    this.locked(() => {
      this.words[FD] = fd;
      this.words[QUEUED] = raw.writableLength > 0 ? 1 : 0;
      this.words[BROKEN] = 0;
    });
  }

  detach(): void {
    this.raw = null;
    this.locked(() => {
      this.words[FD] = -1;
    });
  }

  private locked(run: () => void): void {
    if (this.holding) {
      run();
      return;
    }
    lock(this.words);
    this.holding = true;
    try {
      run();
    } finally {
      this.holding = false;
      unlock(this.words);
    }
  }

  /** Threads leave their results to the main thread until it has written what it queued. */
  queued(): void {
    // Raising it needs no turn: a thread writing now checked it before this message existed.
    if (this.raw !== null) Atomics.store(this.words, QUEUED, 1);
  }

  /** Runs the main thread's own socket write(s), in turn with the threads'. */
  write(send: () => void): void {
    const raw = this.raw;
    if (raw === null) {
      send();
      return;
    }
    this.locked(() => {
      try {
        send();
      } finally {
        this.words[QUEUED] = raw.writableLength > 0 ? 1 : 0;
      }
    });
  }

  /** True once a thread's frame was cut short: the stream is corrupt, the connection must go. */
  get broken(): boolean {
    return Atomics.load(this.words, BROKEN) === 1;
  }
}

/** A worker thread's side. */
export class ThreadWriter {
  private readonly words: Int32Array;

  constructor(shared: SharedArrayBuffer) {
    this.words = new Int32Array(shared);
  }

  /**
   * Writes `{ type: 'done', id, value, runMs }` as one masked (zero key, as every client of ours:
   * protocol/client-socket.ts) binary WebSocket frame. False when it did not (the main thread
   * sends it then); true when it did, or when the socket took part of it and no more (`broken`
   * is then set: the main thread drops the connection, and the coordinator re-runs the task).
   */
  done(id: string, value: Uint8Array, runMs: number): boolean {
    if (Atomics.load(this.words, FD) < 0 || value.byteLength > MAX_THREAD_FRAME_BYTES) return false;
    const frame = packDoneFrame([{ type: 'done', id, value, runMs }]);
    if (frame === null || frame.byteLength > MAX_THREAD_FRAME_BYTES) return false;
    const n = frame.byteLength;
    const head = n < 126 ? 6 : 8;
    const out = Buffer.allocUnsafe(head + n);
    out[0] = 0x82; // FIN, binary
    if (n < 126) {
      out[1] = 0x80 | n;
    } else {
      out[1] = 0x80 | 126;
      out.writeUInt16BE(n, 2);
    }
    out.writeUInt32BE(0, head - 4); // the masking key: zero, so the payload goes as it is
    frame.copy(out, head);
    if (Atomics.compareExchange(this.words, LOCK, 0, 1) !== 0) return false; // the main thread is writing: it sends this one too
    try {
      const fd = this.words[FD]!;
      if (fd < 0 || this.words[QUEUED] === 1 || this.words[BROKEN] === 1) return false;
      let written: number;
      try {
        written = writeSync(fd, out);
      } catch {
        return false; // EAGAIN (the socket is full) or EBADF: nothing was written
      }
      if (written === out.byteLength) return true;
      this.complete(fd, out, written);
      return true;
    } finally {
      unlock(this.words);
    }
  }

  /** The rest of a frame the socket took only part of; nothing else may be written before it. */
  private complete(fd: number, out: Buffer, from: number): void {
    const until = performance.now() + COMPLETE_WITHIN_MS;
    const pause = new Int32Array(new SharedArrayBuffer(4));
    while (from < out.byteLength) {
      try {
        from += writeSync(fd, out, from);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || performance.now() > until) {
          Atomics.store(this.words, BROKEN, 1);
          return;
        }
        Atomics.wait(pause, 0, 0, 1);
      }
    }
  }
}
