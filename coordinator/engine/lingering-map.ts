/**
 * A map whose released entries stay readable for a grace period (a task's output can trail its
 * result), swept by one timer for all of them: a timer per entry was a measurable share of a
 * 100,000-task map. Keys are unique (engine task ids), so a released key is never set again.
 */
export class LingeringMap<V> {
  private readonly map = new Map<string, V>();
  /** Released keys in release order, each with the time it goes. */
  private readonly released: { key: string; at: number }[] = [];
  private head = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly graceMs: number) {}

  set(key: string, value: V): void {
    this.map.set(key, value);
  }

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  /** The entry goes `graceMs` from now. */
  release(key: string): void {
    this.released.push({ key, at: Date.now() + this.graceMs });
    this.arm();
  }

  private arm(): void {
    const next = this.released[this.head];
    if (this.timer !== null || next === undefined) return;
    this.timer = setTimeout(() => this.sweep(), Math.max(0, next.at - Date.now())).unref();
  }

  private sweep(): void {
    this.timer = null;
    const now = Date.now();
    for (let next = this.released[this.head]; next !== undefined && next.at <= now; next = this.released[this.head]) {
      this.map.delete(next.key);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.released.length) {
      this.released.splice(0, this.head);
      this.head = 0;
    }
    this.arm();
  }
}
