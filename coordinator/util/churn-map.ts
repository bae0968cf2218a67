import { Slots } from './slots.js';

/**
 * A string-keyed map for entries that come and go at task rate: the ids a TaskIndex cannot place
 * in its ring (task-index.ts; other id forms, collisions). A `Map` holds only each key's slot
 * number; the values live in {@link Slots}, whose freed slots are cleared, and whose old backing
 * array is cleared when it grows.
 *
 * Why not a `Map` of the values: a long-lived `Map` gets its hash tables in the old generation,
 * and a table it outgrows or rehashes is left there, still pointing at the entries it held, until
 * the next full GC. Every young object reached from such a table survives the scavenges meanwhile
 * and is promoted. With the hot path's four per-task maps and sets holding task records (and
 * through them their closures, promises and packed arguments), a 100,000-task map promoted about
 * 1.5 KB per task, and scavenges were a third of the coordinator's CPU. Here a stale table can
 * only hold key strings and slot numbers, and the arrays never hold a stale value.
 *
 * `values()` and `keys()` are snapshots in insertion order: the map may change while they are walked.
 */
export class ChurnMap<V> {
  private readonly index = new Map<string, number>();
  private readonly slots = new Slots<V>();

  get size(): number {
    return this.index.size;
  }

  get(key: string): V | undefined {
    const slot = this.index.get(key);
    return slot === undefined ? undefined : this.slots.at(slot);
  }

  has(key: string): boolean {
    return this.index.has(key);
  }

  set(key: string, value: V): this {
    const known = this.index.get(key);
    if (known !== undefined) this.slots.put(known, value);
    else this.index.set(key, this.slots.add(value));
    return this;
  }

  delete(key: string): boolean {
    const slot = this.index.get(key);
    if (slot === undefined) return false;
    this.index.delete(key);
    this.slots.remove(slot);
    return true;
  }

  values(): V[] {
    const out: V[] = [];
    for (const slot of this.index.values()) out.push(this.slots.at(slot) as V);
    return out;
  }

  keys(): string[] {
    return [...this.index.keys()];
  }

  clear(): void {
    this.index.clear();
    this.slots.clear();
  }
}
