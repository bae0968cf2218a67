import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ObjectStoreOptions {
  /** Bytes kept in memory; past it the least recently used objects move to disk. */
  memoryBytes: number;
  /** Where spilled objects go (this agent's own directory). */
  spillDir: string;
  /** Bytes on disk at most; past both limits a put fails. */
  spillBytes: number;
}

/** Both the memory and the disk budget are used up: the value cannot be kept. */
export class ObjectStoreFullError extends Error {
  override name = 'ObjectStoreFullError';
  readonly code = 'OBJECT_STORE_FULL';
}

interface Entry {
  bytes: Uint8Array | null;
  size: number;
  /** Spilled: the file holds it. */
  onDisk: boolean;
}

/**
 * The values this agent keeps for later tasks (results held by reference, `put` values, fetched
 * copies): in memory up to a budget, then on local disk, least recently used first. Reads of a
 * spilled object come from disk (they are not moved back). Ids are opaque and safe as file names
 * (checked).
 */
export class ObjectStore {
  /** Insertion order is recency: an access moves the entry to the end. */
  private readonly entries = new Map<string, Entry>();
  private memory = 0;
  private disk = 0;
  private dirMade = false;

  constructor(private readonly options: ObjectStoreOptions) {}

  has(id: string): boolean {
    return this.entries.has(id);
  }

  get size(): { objects: number; memoryBytes: number; spilledBytes: number } {
    return { objects: this.entries.size, memoryBytes: this.memory, spilledBytes: this.disk };
  }

  /** Keeps `bytes` under `id` (replacing a previous value). Throws ObjectStoreFullError. */
  put(id: string, bytes: Uint8Array): void {
    checkId(id);
    this.delete(id);
    if (bytes.byteLength > this.options.memoryBytes) {
      this.spillNew(id, bytes);
      return;
    }
    // Decide before changing anything: a put that cannot fit leaves the store as it was.
    const victims = this.victimsFor(this.memory + bytes.byteLength - this.options.memoryBytes);
    const spilled = victims.reduce((n, [, e]) => n + e.size, 0);
    if (this.disk + spilled > this.options.spillBytes) throw this.full(id, bytes.byteLength);
    for (const [victim, entry] of victims) {
      this.writeFile(victim, entry.bytes!);
      this.memory -= entry.size;
      this.disk += entry.size;
      entry.bytes = null;
      entry.onDisk = true;
    }
    this.entries.set(id, { bytes, size: bytes.byteLength, onDisk: false });
    this.memory += bytes.byteLength;
  }

  /** The bytes, or undefined when this agent does not hold the object. */
  get(id: string): Uint8Array | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    this.entries.delete(id);
    this.entries.set(id, entry);
    if (entry.bytes) return entry.bytes;
    return new Uint8Array(readFileSync(this.file(id)));
  }

  delete(id: string): boolean {
    const entry = this.entries.get(id);
    if (!entry) return false;
    this.entries.delete(id);
    if (entry.onDisk) {
      this.disk -= entry.size;
      rmSync(this.file(id), { force: true });
    } else {
      this.memory -= entry.size;
    }
    return true;
  }

  /** Removes every object and the spill directory. */
  clear(): void {
    for (const id of [...this.entries.keys()]) this.delete(id);
    if (this.dirMade) rmSync(this.options.spillDir, { recursive: true, force: true });
  }

  /** The least recently used in-memory objects whose bytes add up to at least `needed`. */
  private victimsFor(needed: number): [string, Entry][] {
    const out: [string, Entry][] = [];
    let freed = 0;
    for (const pair of this.entries) {
      if (freed >= needed) break;
      if (pair[1].onDisk || !pair[1].bytes) continue;
      out.push(pair);
      freed += pair[1].size;
    }
    return out;
  }

  private full(id: string, bytes: number): ObjectStoreFullError {
    return new ObjectStoreFullError(
      `cannot keep object ${id} (${bytes} bytes): ${this.memory} bytes in memory (budget ${this.options.memoryBytes}) and ${this.disk} on disk (budget ${this.options.spillBytes}) are in use; free refs you no longer need, or raise objectStoreBytes / objectSpillBytes`,
    );
  }

  private spillNew(id: string, bytes: Uint8Array): void {
    if (this.disk + bytes.byteLength > this.options.spillBytes) throw this.full(id, bytes.byteLength);
    this.writeFile(id, bytes);
    this.entries.set(id, { bytes: null, size: bytes.byteLength, onDisk: true });
    this.disk += bytes.byteLength;
  }

  private writeFile(id: string, bytes: Uint8Array): void {
    if (!this.dirMade) {
      mkdirSync(this.options.spillDir, { recursive: true, mode: 0o700 });
      this.dirMade = true;
    }
    writeFileSync(this.file(id), bytes, { mode: 0o600 });
  }

  private file(id: string): string {
    return join(this.options.spillDir, id);
  }
}

function checkId(id: string): void {
  if (!/^[A-Za-z0-9_-]{1,128}$/.test(id)) throw new TypeError(`object id ${JSON.stringify(id.slice(0, 40))} is not a valid id`);
}
