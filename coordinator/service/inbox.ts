/**
 * One connection's inbound messages, handled in order with bounded work per loop turn. A message
 * of many items (a map's gathered `submits`, up to MAX_BATCH tasks) is taken in slices of at most
 * `perTurn` items; the rest waits for a setImmediate, so the frames other connections sent
 * meanwhile (an interactive client's run, an agent's results) are read and handled between two
 * slices instead of behind the whole message. Later messages of the same connection wait behind
 * it: the order on one connection is the order it was sent in.
 */
export interface InboxHandler<M> {
  /** How many items `message` holds (1 for a message that is not a batch). */
  size(message: M): number;
  /** Handles items [from, to) of `message` (0 and 1 for a message that is not a batch). */
  handle(message: M, from: number, to: number): void;
  /** Runs a resumed slice as a frame's handler runs (an exception costs the connection, not the process). */
  guard(run: () => void): void;
  /** True once the connection is gone: what is queued is dropped. */
  stopped(): boolean;
}

export class Inbox<M> {
  private queue: M[] = [];
  private head = 0;
  /** Items of queue[head] handled so far. */
  private offset = 0;
  private resumeQueued = false;

  constructor(
    private readonly perTurn: number,
    private readonly handler: InboxHandler<M>,
  ) {}

  /** Messages of one frame, in order. */
  push(messages: readonly M[]): void {
    for (const m of messages) this.queue.push(m);
    if (!this.resumeQueued) this.drain();
  }

  private readonly resume = (): void => {
    this.resumeQueued = false;
    this.handler.guard(() => this.drain());
  };

  private drain(): void {
    let budget = this.perTurn;
    while (this.head < this.queue.length) {
      if (this.handler.stopped()) break;
      if (budget <= 0) {
        this.resumeQueued = true;
        setImmediate(this.resume);
        return;
      }
      const message = this.queue[this.head]!;
      const size = this.handler.size(message);
      const to = Math.min(size, this.offset + budget);
      const from = this.offset;
      // Moved on before handling, so an exception cannot make the same items run twice.
      if (to >= size) {
        this.head++;
        this.offset = 0;
      } else {
        this.offset = to;
      }
      budget -= Math.max(to - from, 1);
      this.handler.handle(message, from, to);
    }
    this.queue = [];
    this.head = 0;
    this.offset = 0;
  }
}
