/**
 * Progress of a `map`/`stream`: counts for programs (`onProgress`), and a one-line bar on stderr
 * when stderr is a terminal (`progress: false` turns it off), drawn through the process's one
 * terminal writer so task output never lands on it.
 */
import { terminal, type Terminal } from './terminal.js';

/** One snapshot of a `map`/`stream` call's progress, as `onProgress` receives it. */
export interface Progress {
  /** Items finished successfully. */
  done: number;
  /** Items whose task failed (the first failure ends a map; later ones are cancelled). */
  failed: number;
  /** Items in the input; null until a lazy input is exhausted. */
  total: number | null;
  /** Items per second since the call started. */
  rate: number;
  /** Estimated time left, ms; null while unknown. */
  etaMs: number | null;
  elapsedMs: number;
  /** The call ended (every item finished, or it failed or was left early). */
  finished: boolean;
}

export interface ProgressOptions {
  /** A progress bar on stderr while this call runs, when stderr is a terminal. @default true */
  progress?: boolean;
  /**
   * Called after each finished task with the counts so far, and once at the end (`finished: true`,
   * after the bar shows its final counts).
   */
  onProgress?: (progress: Progress) => void;
  /** The bar's name. @default the function's name, or the module export's; else 'map' */
  label?: string;
}

/** What fan-out reports into. */
export interface ProgressSink {
  /** The call's first step: the bar appears (not before: a stream nobody iterates draws nothing). */
  begin(): void;
  settled(items: number, ok: boolean): void;
  /** The input is exhausted: now the total is known. */
  total(items: number): void;
  end(): void;
}

const REDRAW_MS = 100;
export const MAX_LABEL = 200;

export function progressFor(label: string, items: unknown, options: ProgressOptions | undefined, term: Terminal = terminal()): ProgressSink | null {
  // Checked by the map options schema (fan-out.ts) before this is called.
  const onProgress = options?.onProgress;
  const bar = options?.progress !== false && term.stderr.isTTY === true && process.env.CLUSTRIX_PROGRESS !== '0';
  if (!bar && !onProgress) return null;
  return new ProgressTracker(label, knownSize(items), onProgress ?? null, bar ? term : null);
}

function knownSize(items: unknown): number | null {
  if (Array.isArray(items)) return items.length;
  if (items instanceof Set || items instanceof Map) return items.size;
  if (ArrayBuffer.isView(items) && 'length' in items && typeof items.length === 'number') return items.length;
  return null;
}

export class ProgressTracker implements ProgressSink {
  private done = 0;
  private failed = 0;
  private readonly started = Date.now();
  private lastDraw = 0;
  private ended = false;

  constructor(
    private readonly label: string,
    private totalItems: number | null,
    private readonly onProgress: ((p: Progress) => void) | null,
    private readonly term: Terminal | null,
  ) {}

  begin(): void {
    if (this.term && !this.ended) this.draw(false);
  }

  settled(items: number, ok: boolean): void {
    if (this.ended) return;
    if (ok) this.done += items;
    else this.failed += items;
    this.report(false);
  }

  total(items: number): void {
    this.totalItems = items;
  }

  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.report(true);
  }

  snapshot(finished: boolean): Progress {
    const elapsedMs = Date.now() - this.started;
    const finishedItems = this.done + this.failed;
    const rate = elapsedMs > 0 ? (finishedItems * 1000) / elapsedMs : 0;
    const left = this.totalItems === null ? null : Math.max(0, this.totalItems - finishedItems);
    const etaMs = left === null ? null : left === 0 ? 0 : rate > 0 ? Math.round((left / rate) * 1000) : null;
    return { done: this.done, failed: this.failed, total: this.totalItems, rate, etaMs, elapsedMs, finished };
  }

  // The bar first: a callback that prints (or a program that logs once the last one fired) must
  // find the bar already at these counts, the final one above it.
  private report(finished: boolean): void {
    if (this.term && (finished || Date.now() - this.lastDraw >= REDRAW_MS)) this.draw(finished);
    if (this.onProgress) {
      try {
        this.onProgress(this.snapshot(finished));
      } catch {
        // A throwing callback must not break the map it watches.
      }
    }
  }

  private draw(finished: boolean): void {
    if (!this.term) return;
    this.lastDraw = Date.now();
    // A terminal of unknown size (0 columns, as under some pseudo-terminals) gets the usual 80.
    const line = renderBar(this.label, this.snapshot(finished), this.term.stderr.columns || 80);
    if (finished) this.term.endBar(this, line);
    else this.term.bar(this, line);
  }
}

/** `label [██████░░░░] 40/100 12.3/s ETA 5s 2 failed`, fitted to `columns`. */
export function renderBar(label: string, p: Progress, columns: number): string {
  const finishedItems = p.done + p.failed;
  const count = p.total === null ? `${finishedItems}/?` : `${finishedItems}/${p.total}`;
  const rate = `${p.rate >= 100 ? Math.round(p.rate) : p.rate.toFixed(1)}/s`;
  const eta = p.finished ? `in ${formatDuration(p.elapsedMs)}` : p.etaMs === null ? 'ETA ?' : `ETA ${formatDuration(p.etaMs)}`;
  const failures = p.failed > 0 ? ` \x1b[31m${p.failed} failed\x1b[0m` : '';
  const tail = ` ${count} ${rate} ${eta}`;
  // One screen line, always: the terminal writer clears bars by line count. A long label is cut.
  const failWidth = p.failed > 0 ? 12 : 0;
  const room = columns - tail.length - failWidth - 14;
  const name = label.length <= room ? label : room > 1 ? `${label.slice(0, room - 1)}…` : '';
  const width = Math.max(10, Math.min(40, columns - name.length - tail.length - failWidth - 4));
  const fraction = p.total ? Math.min(1, finishedItems / p.total) : 0;
  const filled = Math.round(fraction * width);
  return `${name} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}]${tail}${failures}`;
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
