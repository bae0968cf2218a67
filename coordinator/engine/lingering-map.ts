/**
 * A map whose released entries stay readable for a grace period (a task's output can trail its
 * result). Released entries go into the younger of two generations, and one timer per grace
 * period drops the older generation whole: no per-entry deadline or sweep (a timer per entry, and
 * later a swept queue of `{ key, at }`, were each a measurable share of a 100,000-task map).
 * An entry is readable from `graceMs` to `2 × graceMs` after its release. Keys are unique (engine
 * task ids), so a released key is never set again.
 */
export class LingeringMap<V> {
  private readonly live = new Map<string, V>();
  private young = new Map<string, V>();
  private old = new Map<string, V>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly graceMs: number) {}

  set(key: string, value: V): void {
    this.live.set(key, value);
  }

  get(key: string): V | undefined {
    return this.live.get(key) ?? this.young.get(key) ?? this.old.get(key);
  }

  /** The entry goes in `graceMs` to `2 × graceMs` from now. */
  release(key: string): void {
    const value = this.live.get(key);
    if (value === undefined) return;
    this.live.delete(key);
    this.linger(key, value);
  }

  /** An entry that was never live (its owner is found elsewhere while it runs): readable for the grace period only. */
  linger(key: string, value: V): void {
    this.young.set(key, value);
    this.timer ??= setTimeout(this.rotate, this.graceMs).unref();
  }

  private readonly rotate = (): void => {
    this.old = this.young;
    this.young = new Map();
    this.timer = this.old.size > 0 ? setTimeout(this.rotate, this.graceMs).unref() : null;
  };
}
