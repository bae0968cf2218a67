import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { nanoid } from 'nanoid';
import { Packr } from 'msgpackr';
import type { Collected, DetachSpec } from '../../protocol/core-methods.js';
import type { DetachedRow } from '../../protocol/rows.js';
import type { WireError } from '../../protocol/service-messages.js';
import { CancelledError, ResultsExpiredError } from '../errors/errors.js';
import { fromWireError, toWireError } from '../errors/registry.js';
import type { EngineScope } from './scope.js';
import type { ShippedCode } from './task.js';

type Stored = { ok: true; chunked: boolean; results: Uint8Array[] } | { ok: false; error: WireError };

interface DetachedCall {
  row: DetachedRow;
  /** Settles once the results (or the error) are on disk. */
  stored: Promise<void>;
}

/** Ids of dropped calls remembered, to tell a late collector why. */
const EXPIRED_KEPT = 10_000;

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/**
 * Detached calls of a service: maps that run under the engine's own scope (so they outlive the
 * client that started them) and keep their results in the service's state directory, one file per
 * call, within a byte budget: past it the oldest finished calls are dropped and collecting one
 * fails with RESULTS_EXPIRED.
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
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  start(spec: DetachSpec, code: ShippedCode, client: string): string {
    const id = `d${nanoid(10)}`;
    this.scope.addCode(code);
    const row: DetachedRow = { id, label: spec.label, client, state: 'running', tasks: spec.items.length, settled: 0, bytes: 0, startedAt: Date.now(), endedAt: null };
    const results = new Array<Uint8Array>(spec.items.length);
    const { items: _items, label, ...task } = spec;
    const ran = Promise.all(
      spec.items.map((args, i) =>
        this.scope.submit({ ...task, id: `${id}-${i}`, args, priority: 0, weight: 1, group: id, resources: null, keep: null, refs: [], call: { id, label } }).then((value) => {
          results[i] = value;
          row.settled++;
        }),
      ),
    );
    const stored = ran.then(
      () => this.store(row, { ok: true, chunked: spec.chunk, results }),
      (err: unknown) => {
        this.scope.cancelCall(id, new CancelledError(`another task of detached call ${id} failed`));
        this.store(row, { ok: false, error: toWireError(err) });
      },
    );
    this.calls.set(id, { row, stored });
    return id;
  }

  /** Waits for the call, then answers its results; RESULTS_EXPIRED once they were dropped. */
  async collect(id: string): Promise<Collected> {
    const call = this.calls.get(id);
    if (!call) throw this.gone(id);
    await call.stored;
    let record: Stored;
    try {
      record = packr.unpack(readFileSync(this.file(id))) as Stored;
    } catch {
      throw this.gone(id);
    }
    if (!record.ok) throw fromWireError(record.error);
    return { chunked: record.chunked, results: record.results };
  }

  list(): DetachedRow[] {
    return [...this.calls.values()].map((c) => ({ ...c.row }));
  }

  private store(row: DetachedRow, record: Stored): void {
    const bytes = packr.pack(record);
    writeFileSync(this.file(row.id), bytes, { mode: 0o600 });
    row.state = record.ok ? 'done' : 'failed';
    row.endedAt = Date.now();
    row.bytes = bytes.byteLength;
    this.storedBytes += row.bytes;
    // The oldest finished calls go first; this one last (a single call over the budget is dropped too).
    for (const [id, c] of this.calls) {
      if (this.storedBytes <= this.budgetBytes) break;
      if (c.row.state === 'running') continue;
      this.drop(id, c);
    }
  }

  private drop(id: string, call: DetachedCall): void {
    rmSync(this.file(id), { force: true });
    this.storedBytes -= call.row.bytes;
    this.calls.delete(id);
    this.expired.add(id);
    if (this.expired.size > EXPIRED_KEPT) this.expired.delete(this.expired.values().next().value!);
  }

  private gone(id: string): ResultsExpiredError {
    return this.expired.has(id)
      ? new ResultsExpiredError(`the results of detached call ${id} were dropped: the service keeps at most ${this.budgetBytes} bytes of results`, id)
      : new ResultsExpiredError(`this service has no detached call ${id.slice(0, 64)} (unknown, dropped before a restart, or of another service)`, id);
  }

  private file(id: string): string {
    return join(this.dir, `${id.replace(/[^A-Za-z0-9_-]/g, '_')}.msgpack`);
  }
}
