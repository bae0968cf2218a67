import type { ClustrixError } from '../errors/errors.js';
import type { Logger } from '../util/logger.js';

/**
 * What the pool sees of the work, without the scheduler or the actor manager: whether any waits
 * for an agent, and how to fail it when no agent comes back.
 */
export interface PoolWork {
  /** Tasks queued, actors waiting to be constructed, and calls waiting for their actor. */
  waiting(): number;
  /** Fails every waiting task and actor call with `error`. */
  fail(error: ClustrixError): void;
}

/** How often a pool short of agents checks whether waiting work has waited too long. */
const CHECK_MS = 100;

/**
 * The bound on waiting for a pool with no agent: while the pool is short, work that has waited
 * `timeoutMs` with no agent ready fails with the pool's explanation, so nothing hangs silently.
 * The clock starts again for work that waits after that (the pool keeps trying).
 */
export class StallWatch {
  private timer: NodeJS.Timeout | null = null;
  /** Since when work has waited with no agent ready; null: it does not. */
  private since: number | null = null;
  private failing = false;

  constructor(
    private readonly timeoutMs: number,
    private readonly pool: { ready(): number; wanted(): number },
    private readonly work: PoolWork,
    /** The error to fail waiting work with (it may read job logs). */
    private readonly explain: () => Promise<ClustrixError>,
    private readonly log: Logger,
  ) {}

  /** The pool is short of agents: watch until it is not. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), CHECK_MS);
    this.timer.unref();
  }

  /** An agent connected: waiting work is served again. */
  reset(): void {
    this.since = null;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.since = null;
  }

  private check(): void {
    const ready = this.pool.ready();
    if (ready >= this.pool.wanted()) {
      this.stop();
      return;
    }
    if (ready > 0 || this.work.waiting() === 0) {
      this.since = null;
      return;
    }
    const now = Date.now();
    this.since ??= now;
    if (now - this.since >= this.timeoutMs) void this.fail();
  }

  private async fail(): Promise<void> {
    if (this.failing) return;
    this.failing = true;
    try {
      const error = await this.explain();
      // An agent may have connected, or the pool closed, while the logs were read.
      if (this.timer === null || this.pool.ready() > 0) return;
      this.since = null;
      this.log.error(error.message);
      this.work.fail(error);
    } finally {
      this.failing = false;
    }
  }
}
