/**
 * What an agent's start does once its first hello has left, not before (issue 16): the threads'
 * creation (~3 ms of the main thread; done while the upgrade's answer was due, it delayed the hello
 * as often as not), the module cache's housekeeping (a stat of every entry: ~7 ms for a full cache)
 * and the caller's own deferrable work. They then run while the coordinator answers and the schemas
 * load; no job can arrive before the welcome. Should no hello leave within `limitMs` (a coordinator
 * not reachable yet), the deferred work runs anyway: it must not wait long for the network.
 */
export class FirstHello {
  private deferred: { timer: NodeJS.Timeout; work: () => void } | null = null;
  private onHello: (() => void) | null = null;

  /** `work`: runs at the first hello or after `limitMs`, once. `onHello`: runs at the first hello, whenever that is. */
  arm(work: () => void, onHello: (() => void) | null, limitMs: number): void {
    this.onHello = onHello;
    const timer = setTimeout(() => this.runDeferred(), limitMs);
    timer.unref();
    this.deferred = { timer, work };
  }

  /** A hello left: the first one runs what waited for it. */
  helloSent(): void {
    this.runDeferred();
    const onHello = this.onHello;
    this.onHello = null;
    onHello?.();
  }

  private runDeferred(): void {
    if (this.deferred === null) return;
    const { timer, work } = this.deferred;
    this.deferred = null;
    clearTimeout(timer);
    work();
  }
}
