/**
 * One message that gathers items (a map's submits, its results) until the end of the current
 * microtask queue, then goes to `send` as one: columns of a thousand calls pack and unpack in a
 * tenth of the time of a thousand messages. Its owner sends it first (`flush`) before any other
 * message, so the order of everything on the connection is the order it was produced in.
 */
export class Gathering<M extends object> {
  private open: M | null = null;
  private queued = false;

  constructor(private readonly send: (message: M) => void) {}

  /** The message still gathering, or null. */
  get current(): M | null {
    return this.open;
  }

  /** Sends the open message (if any), and gathers into `message` from now on. */
  begin(message: M): void {
    this.flush();
    this.open = message;
    if (!this.queued) {
      this.queued = true;
      queueMicrotask(this.end);
    }
  }

  /** Sends the open message now (before another message, or when it is full). */
  flush(): void {
    const m = this.open;
    if (m === null) return;
    this.open = null;
    this.send(m);
  }

  private readonly end = (): void => {
    this.queued = false;
    this.flush();
  };
}
