import { ChurnMap } from './churn-map.js';

/**
 * Work in flight by an id that ends in a counter, found without hashing the id: the ids in flight
 * at once have counters close together, so the counter's low bits index a ring. Two forms:
 * `<prefix>.<base 36>` (the engine's task ids, Engine.nextTaskId, on each link; a connection's
 * request ids, RemoteTransport) and `<prefix><decimal>` without a dot (a Cluster's task ids, `t<n>`,
 * in its service session's scope). An id whose slot is taken by another, or that is of neither
 * form, waits in a {@link ChurnMap} instead.
 *
 * Why: every task is put, found and removed here once (the answer's id is a fresh string), and
 * hashing it into a `Map` and out again was the largest share of the coordinator's own code per
 * task after the scope's by-id map (see churn-map.ts for why a Map of values is not used either).
 * As there, freed slots are cleared and an outgrown ring is emptied before it is dropped.
 *
 * `values()` and `keys()` are snapshots in insertion order: the index may change while they are walked.
 */
export class TaskIndex<V> {
  private keyRing: (string | undefined)[] = new Array<string | undefined>(INITIAL_RING).fill(undefined);
  private valueRing: (V | undefined)[] = new Array<V | undefined>(INITIAL_RING).fill(undefined);
  /** When each slot's entry was put (for the insertion order of `values()`). */
  private orderRing: number[] = new Array<number>(INITIAL_RING).fill(0);
  private mask = INITIAL_RING - 1;
  private inRing = 0;
  private readonly spill = new ChurnMap<{ key: string; value: V; order: number }>();
  private order = 0;

  get size(): number {
    return this.inRing + this.spill.size;
  }

  get(key: string): V | undefined {
    const i = this.slot(key);
    if (i >= 0 && this.keyRing[i] === key) return this.valueRing[i];
    return this.spill.size === 0 ? undefined : this.spill.get(key)?.value;
  }

  has(key: string): boolean {
    const i = this.slot(key);
    return (i >= 0 && this.keyRing[i] === key) || (this.spill.size > 0 && this.spill.has(key));
  }

  set(key: string, value: V): this {
    const i = this.slot(key);
    if (i >= 0) {
      const held = this.keyRing[i];
      if (held === key) {
        this.valueRing[i] = value;
        return this;
      }
      if (held === undefined && (this.spill.size === 0 || !this.spill.has(key))) {
        this.keyRing[i] = key;
        this.valueRing[i] = value;
        this.orderRing[i] = ++this.order;
        if (++this.inRing > (this.mask + 1) / 2) this.grow();
        return this;
      }
    }
    const spilled = this.spill.get(key);
    if (spilled) spilled.value = value;
    else this.spill.set(key, { key, value, order: ++this.order });
    return this;
  }

  /** {@link delete} that returns the value. */
  take(key: string): V | undefined {
    const i = this.slot(key);
    if (i >= 0 && this.keyRing[i] === key) {
      const value = this.valueRing[i];
      this.keyRing[i] = undefined;
      this.valueRing[i] = undefined;
      this.inRing--;
      return value;
    }
    if (this.spill.size === 0) return undefined;
    const spilled = this.spill.get(key);
    if (!spilled) return undefined;
    this.spill.delete(key);
    return spilled.value;
  }

  delete(key: string): boolean {
    if (!this.has(key)) return false;
    this.take(key);
    return true;
  }

  values(): V[] {
    return this.entries().map((e) => e.value);
  }

  keys(): string[] {
    return this.entries().map((e) => e.key);
  }

  clear(): void {
    this.keyRing.fill(undefined);
    this.valueRing.fill(undefined);
    this.inRing = 0;
    this.spill.clear();
  }

  /** The ring slot of `key`; -1: none (not an engine id). */
  private slot(key: string): number {
    const n = slotOf(key);
    return n < 0 ? -1 : n & this.mask;
  }

  private entries(): { key: string; value: V; order: number }[] {
    const out: { key: string; value: V; order: number }[] = [];
    for (let i = 0; i <= this.mask; i++) {
      const key = this.keyRing[i];
      if (key !== undefined) out.push({ key, value: this.valueRing[i] as V, order: this.orderRing[i]! });
    }
    for (const { key, value, order } of this.spill.values()) out.push({ key, value, order });
    return out.sort((a, b) => a.order - b.order);
  }

  /** Twice the ring (kept under half full); entries that collide there go to the spill map. */
  private grow(): void {
    const keys = this.keyRing;
    const values = this.valueRing;
    const orders = this.orderRing;
    const size = 2 * keys.length;
    this.keyRing = new Array<string | undefined>(size).fill(undefined);
    this.valueRing = new Array<V | undefined>(size).fill(undefined);
    this.orderRing = new Array<number>(size).fill(0);
    this.mask = size - 1;
    this.inRing = 0;
    for (let j = 0; j < keys.length; j++) {
      const key = keys[j];
      if (key === undefined) continue;
      const i = this.slot(key);
      if (this.keyRing[i] === undefined) {
        this.keyRing[i] = key;
        this.valueRing[i] = values[j];
        this.orderRing[i] = orders[j]!;
        this.inRing++;
      } else {
        this.spill.set(key, { key, value: values[j] as V, order: orders[j]! });
      }
    }
    keys.fill(undefined);
    values.fill(undefined);
  }
}

const INITIAL_RING = 64;

/**
 * The counter at the end of an id, modulo 2^30: base 36 after the last dot (`<prefix>.<base 36>`),
 * else the decimal digits at the end after a prefix (`<prefix><decimal>`); -1 for any other id.
 */
function slotOf(key: string): number {
  let n = 0;
  let scale = 1;
  for (let i = key.length - 1; i >= 0; i--) {
    const c = key.charCodeAt(i);
    let digit: number;
    if (c >= 48 && c <= 57) digit = c - 48;
    else if (c >= 97 && c <= 122) digit = c - 87;
    else return c === 46 && scale > 1 ? n : decimalSlotOf(key);
    n = (n + digit * scale) & 0x3fffffff;
    scale = (scale * 36) & 0x3fffffff;
  }
  return decimalSlotOf(key);
}

/** The decimal counter at the end of `key` after a prefix, modulo 2^30; -1 when there is none. */
function decimalSlotOf(key: string): number {
  let n = 0;
  let scale = 1;
  for (let i = key.length - 1; i >= 0; i--) {
    const c = key.charCodeAt(i);
    if (c < 48 || c > 57) return scale > 1 ? n : -1;
    n = (n + (c - 48) * scale) & 0x3fffffff;
    scale = (scale * 10) & 0x3fffffff;
  }
  return -1;
}
