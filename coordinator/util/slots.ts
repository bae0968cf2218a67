/**
 * Values that come and go at task rate, held in numbered slots: `add` hands out a slot, `remove`
 * frees it for reuse. No hashing: the holder keeps its slot number (a map's pending task keeps its
 * own). Freed slots are cleared, and an outgrown array is emptied before it is dropped, so that an
 * array left in the old generation points at nothing (see churn-map.ts for why that matters).
 */
export class Slots<V> {
  private slots: (V | undefined)[] = new Array<V | undefined>(INITIAL_SLOTS).fill(undefined);
  /** Slots below `used` that are free; slots from `used` up were never taken. */
  private readonly free: number[] = [];
  private used = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(value: V): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      if (this.used === this.slots.length) this.grow();
      slot = this.used++;
    }
    this.slots[slot] = value;
    this.count++;
    return slot;
  }

  at(slot: number): V | undefined {
    return this.slots[slot];
  }

  /** Replaces the value of a taken slot. */
  put(slot: number, value: V): void {
    this.slots[slot] = value;
  }

  remove(slot: number): void {
    this.slots[slot] = undefined;
    this.free.push(slot);
    this.count--;
  }

  /** A snapshot, in slot order: the set may change while it is walked. */
  values(): V[] {
    const out: V[] = [];
    for (let i = 0; i < this.used; i++) {
      const v = this.slots[i];
      if (v !== undefined) out.push(v);
    }
    return out;
  }

  clear(): void {
    this.slots.fill(undefined);
    this.free.length = 0;
    this.used = 0;
    this.count = 0;
  }

  /** Twice the slots; the old array is emptied, so that it points at nothing once dropped. */
  private grow(): void {
    const old = this.slots;
    const slots = new Array<V | undefined>(2 * old.length).fill(undefined);
    for (let i = 0; i < old.length; i++) slots[i] = old[i];
    old.fill(undefined);
    this.slots = slots;
  }
}

const INITIAL_SLOTS = 16;
