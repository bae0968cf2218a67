import { closeSync, fstatSync, openSync, readSync, rmSync, writeSync } from 'node:fs';

interface Entry {
  task: number;
  /** Where the result's bytes start (after its header). */
  offset: number;
  length: number;
}

/** Each record: the task's index and the result's length (u32 LE each), then the result. */
const HEADER = 8;

/**
 * One detached call's results on disk: appended as each task settles (completion order), so a
 * long call holds only offsets in memory; read back from a position in completion order (one
 * contiguous read) or whole, by task. Records carry their own headers, so a service that starts
 * again finds the results of its earlier life (`load`).
 */
export class ResultsFile {
  private fd: number | null;
  /** Bytes on disk so far, headers included. */
  bytes = 0;

  private constructor(
    private readonly path: string,
    private readonly entries: Entry[],
    fd: number | null,
  ) {
    this.fd = fd;
  }

  static create(path: string): ResultsFile {
    return new ResultsFile(path, [], openSync(path, 'w', 0o600));
  }

  /** A sealed file written before, its records indexed again; null when it is missing or cut short. */
  static load(path: string): ResultsFile | null {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return null;
    }
    try {
      const size = fstatSync(fd).size;
      const entries: Entry[] = [];
      const header = Buffer.alloc(HEADER);
      let at = 0;
      while (at < size) {
        if (at + HEADER > size || readSync(fd, header, 0, HEADER, at) !== HEADER) return null;
        const length = header.readUInt32LE(4);
        if (at + HEADER + length > size) return null;
        entries.push({ task: header.readUInt32LE(0), offset: at + HEADER, length });
        at += HEADER + length;
      }
      const file = new ResultsFile(path, entries, null);
      file.bytes = size;
      return file;
    } finally {
      closeSync(fd);
    }
  }

  /** Results appended so far. */
  get count(): number {
    return this.entries.length;
  }

  /** Appends one result; the bytes it took on disk. */
  append(task: number, result: Uint8Array): number {
    if (this.fd === null) throw new Error(`results file ${this.path} is sealed`);
    const header = Buffer.alloc(HEADER);
    header.writeUInt32LE(task, 0);
    header.writeUInt32LE(result.byteLength, 4);
    this.write(header, this.bytes);
    this.write(result, this.bytes + HEADER);
    this.entries.push({ task, offset: this.bytes + HEADER, length: result.byteLength });
    this.bytes += HEADER + result.byteLength;
    return HEADER + result.byteLength;
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

  /** Every result, by task (`tasks` of them). */
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

  private write(bytes: Uint8Array, position: number): void {
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(this.fd!, bytes, done, bytes.byteLength - done, position + done);
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
