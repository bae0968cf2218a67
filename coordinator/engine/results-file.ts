import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';

interface Entry {
  task: number;
  offset: number;
  length: number;
}

/**
 * One detached call's results on disk: appended as each task settles (completion order), so a
 * long call holds only offsets in memory, and read back either from a position in completion
 * order (one contiguous read) or whole, by task.
 */
export class ResultsFile {
  private readonly entries: Entry[] = [];
  private fd: number | null;
  /** Bytes written so far. */
  bytes = 0;

  constructor(private readonly path: string) {
    this.fd = openSync(path, 'w', 0o600);
  }

  /** Results appended so far. */
  get count(): number {
    return this.entries.length;
  }

  append(task: number, result: Uint8Array): void {
    if (this.fd === null) throw new Error(`results file ${this.path} is sealed`);
    let done = 0;
    while (done < result.byteLength) done += writeSync(this.fd, result, done, result.byteLength - done, this.bytes + done);
    this.entries.push({ task, offset: this.bytes, length: result.byteLength });
    this.bytes += result.byteLength;
  }

  /** No more results: the write handle is closed (reads open the file each time). */
  seal(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** The results from position `from` in completion order, at most `maxBytes` of them (at least one). */
  readFrom(from: number, maxBytes: number): { task: number; result: Uint8Array }[] {
    const first = this.entries[from];
    if (!first) return [];
    let end = from + 1;
    while (end < this.entries.length && this.entries[end]!.offset + this.entries[end]!.length - first.offset <= maxBytes) end++;
    const last = this.entries[end - 1]!;
    const block = this.read(first.offset, last.offset + last.length - first.offset);
    return this.entries.slice(from, end).map((e) => ({ task: e.task, result: block.subarray(e.offset - first.offset, e.offset - first.offset + e.length) }));
  }

  /** Every result, by task (`tasks` of them; one missing is an empty slot). */
  readAll(tasks: number): Uint8Array[] {
    const block = this.read(0, this.bytes);
    const out = new Array<Uint8Array>(tasks);
    for (const e of this.entries) out[e.task] = block.subarray(e.offset, e.offset + e.length);
    return out;
  }

  remove(): void {
    this.seal();
    rmSync(this.path, { force: true });
  }

  private read(offset: number, length: number): Uint8Array {
    const out = Buffer.allocUnsafe(length);
    const fd = openSync(this.path, 'r');
    try {
      let done = 0;
      while (done < length) {
        const n = readSync(fd, out, done, length - done, offset + done);
        if (n === 0) throw new Error(`results file ${this.path} is shorter than its index`);
        done += n;
      }
    } finally {
      closeSync(fd);
    }
    return out;
  }
}
