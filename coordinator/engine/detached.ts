import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { nanoid } from 'nanoid';
import { z } from 'zod';
import type { Collected, CollectedPart, DetachSpec } from '../../protocol/core-methods.js';
import { DetachedRow } from '../../protocol/rows.js';
import { WireError } from '../../protocol/service-messages.js';
import { CancelledError, ResultsExpiredError } from '../errors/errors.js';
import { fromWireError, toWireError } from '../errors/registry.js';
import { ResultsFile } from './results-file.js';
import type { EngineScope } from './scope.js';
import type { ShippedCode } from './task.js';

interface DetachedCall {
  row: DetachedRow;
  chunkSize: number;
  file: ResultsFile;
  /** The first failure (the call's outcome); null while running or once done. */
  error: WireError | null;
  /** Settles once the call has ended (every result on disk, or its error). */
  ended: Promise<void>;
  end: () => void;
  /** Collectors waiting for the next result or the end. */
  waiters: Set<() => void>;
}

/** What a finished call leaves beside its results file (`<id>.call`), for a service that starts again. */
const CallRecord = z.object({ row: DetachedRow.extend({ state: z.enum(['done', 'failed']) }), chunkSize: z.number().int().positive(), error: WireError.nullable() });
type CallRecord = z.infer<typeof CallRecord>;

/** The files this store writes in its directory (and may remove there). */
const OWN_FILE = /^(d[A-Za-z0-9_-]{1,64})\.(results|call|msgpack)$/;

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/** Ids of dropped calls remembered, to tell a late collector why. */
const EXPIRED_KEPT = 10_000;
/** Most result bytes in one `collectNext` answer (one result larger than this goes alone). */
const PART_BYTES = 8 * 1024 * 1024;

/**
 * Detached calls of a service: maps, streams and single calls that run under the engine's own
 * scope (so they outlive the client that started them) and keep their results in the service's
 * state directory, one file per call, appended as tasks settle, within a byte budget: past it the
 * oldest finished calls are dropped and collecting one fails with RESULTS_EXPIRED. A finished
 * call's record is written beside its results, so a service started again on the same state
 * directory still answers it; a call that was running when the service died is removed.
 */
export class DetachedCalls {
  private readonly calls = new Map<string, DetachedCall>();
  private readonly expired = new Set<string>();
  private storedBytes = 0;

  constructor(
    private readonly scope: EngineScope,
    private readonly dir: string,
    private readonly budgetBytes: number,
  ) {
    // Made at the first detached call: a service that never detaches leaves no directory behind.
    if (existsSync(dir)) this.restore();
  }

  start(spec: DetachSpec, code: ShippedCode, client: string): string {
    const id = `d${nanoid(10)}`;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.scope.addCode(code);
    const { items, label, kind, chunkSize, ...task } = spec;
    const row: DetachedRow = { id, kind, label, client, state: 'running', tasks: items.length, settled: 0, bytes: 0, startedAt: Date.now(), endedAt: null };
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    const call: DetachedCall = { row, chunkSize, file: ResultsFile.create(this.path(id, 'results')), error: null, ended, end, waiters: new Set() };
    this.calls.set(id, call);
    if (items.length === 0) this.ended(call, 'done');
    items.forEach((args, i) => {
      this.scope
        .submit({ ...task, id: `${id}-${i}`, args, chunk: chunkSize > 1, weight: 1, group: id, keep: null, refs: [], call: { id, label } })
        .then(
          (result) => this.settled(call, i, result),
          (err: unknown) => this.failed(call, err),
        );
    });
    return id;
  }

  /** Waits for the call to end, then answers its results by task; its error if it failed; RESULTS_EXPIRED once dropped. */
  async collect(id: string): Promise<Collected> {
    const call = this.get(id);
    await call.ended;
    if (call.error) throw fromWireError(call.error);
    const results = this.reading(id, () => call.file.readAll(call.row.tasks));
    return { kind: call.row.kind, chunkSize: call.chunkSize, results };
  }

  /** The results settled after the first `from`, in completion order; waits for one while the call runs. */
  async collectNext(id: string, from: number): Promise<CollectedPart> {
    const call = this.get(id);
    for (;;) {
      if (this.calls.get(id) !== call) throw this.gone(id);
      if (from < call.file.count) {
        const settled = this.reading(id, () => call.file.readFrom(from, PART_BYTES));
        return { kind: call.row.kind, chunkSize: call.chunkSize, settled, done: call.row.state === 'done' && from + settled.length === call.file.count };
      }
      if (call.row.state === 'done') return { kind: call.row.kind, chunkSize: call.chunkSize, settled: [], done: true };
      if (call.error) throw fromWireError(call.error);
      await new Promise<void>((resolve) => call.waiters.add(resolve));
    }
  }

  list(): DetachedRow[] {
    return [...this.calls.values()].map((c) => ({ ...c.row }));
  }

  private settled(call: DetachedCall, task: number, result: Uint8Array): void {
    if (call.row.state !== 'running') return;
    let bytes: number;
    try {
      bytes = call.file.append(task, result);
    } catch (err) {
      this.failed(call, err);
      return;
    }
    call.row.settled++;
    call.row.bytes = call.file.bytes;
    this.storedBytes += bytes;
    if (call.row.settled === call.row.tasks) this.ended(call, 'done');
    else this.wake(call);
    this.keepWithinBudget();
  }

  private failed(call: DetachedCall, err: unknown): void {
    if (call.row.state !== 'running') return;
    call.error = toWireError(err);
    this.ended(call, 'failed');
    this.scope.cancelCall(call.row.id, new CancelledError(`another task of detached call ${call.row.id} failed`));
    this.keepWithinBudget();
  }

  private ended(call: DetachedCall, state: 'done' | 'failed'): void {
    call.row.state = state;
    call.row.endedAt = Date.now();
    call.file.seal();
    try {
      const record: CallRecord = { row: { ...call.row, state }, chunkSize: call.chunkSize, error: call.error };
      writeFileSync(this.path(call.row.id, 'call'), packr.pack(record), { mode: 0o600 });
    } catch {
      // Without its record the call is answered until this service stops, not after.
    }
    call.end();
    this.wake(call);
  }

  /** The finished calls of this directory's earlier service, oldest first; whatever else is ours goes. */
  private restore(): void {
    const names = readdirSync(this.dir).filter((n) => OWN_FILE.test(n));
    const restored: DetachedCall[] = [];
    for (const name of names) {
      const [, id, ext] = OWN_FILE.exec(name)!;
      if (ext !== 'call') continue;
      let record: CallRecord;
      try {
        record = CallRecord.parse(packr.unpack(readFileSync(join(this.dir, name))));
      } catch {
        continue;
      }
      const file = record.row.id === id ? ResultsFile.load(this.path(id!, 'results')) : null;
      if (!file || file.count !== record.row.settled) continue;
      restored.push({ row: { ...record.row, bytes: file.bytes }, chunkSize: record.chunkSize, file, error: record.error, ended: Promise.resolve(), end: () => undefined, waiters: new Set() });
    }
    restored.sort((a, b) => (a.row.endedAt ?? 0) - (b.row.endedAt ?? 0));
    for (const call of restored) {
      this.calls.set(call.row.id, call);
      this.storedBytes += call.row.bytes;
    }
    for (const name of names) {
      const id = OWN_FILE.exec(name)![1]!;
      if (!this.calls.has(id)) rmSync(join(this.dir, name), { force: true });
    }
    this.keepWithinBudget();
  }

  private wake(call: DetachedCall): void {
    const waiters = [...call.waiters];
    call.waiters.clear();
    for (const w of waiters) w();
  }

  /** The oldest finished calls go first; running ones stay (a finished call alone over the budget is dropped too). */
  private keepWithinBudget(): void {
    for (const [id, c] of this.calls) {
      if (this.storedBytes <= this.budgetBytes) break;
      if (c.row.state !== 'running') this.drop(id, c);
    }
  }

  private drop(id: string, call: DetachedCall): void {
    call.file.remove();
    rmSync(this.path(id, 'call'), { force: true });
    this.storedBytes -= call.row.bytes;
    this.calls.delete(id);
    this.expired.add(id);
    if (this.expired.size > EXPIRED_KEPT) this.expired.delete(this.expired.values().next().value!);
    this.wake(call);
  }

  private get(id: string): DetachedCall {
    const call = this.calls.get(id);
    if (!call) throw this.gone(id);
    return call;
  }

  /** Reads a call's file; a call dropped meanwhile (its file gone) is RESULTS_EXPIRED. */
  private reading<T>(id: string, read: () => T): T {
    if (!this.calls.has(id)) throw this.gone(id);
    try {
      return read();
    } catch {
      throw this.gone(id);
    }
  }

  private gone(id: string): ResultsExpiredError {
    return this.expired.has(id)
      ? new ResultsExpiredError(`the results of detached call ${id} were dropped: the service keeps at most ${this.budgetBytes} bytes of results`, id)
      : new ResultsExpiredError(`this service has no detached call ${id.slice(0, 64)} (unknown, dropped before a restart, or of another service)`, id);
  }

  private path(id: string, ext: 'results' | 'call'): string {
    return join(this.dir, `${id}.${ext}`);
  }
}
