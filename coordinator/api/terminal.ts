/**
 * The one writer of this process's terminal output while progress bars are up. Bars live on the
 * bottom lines of stderr; a log line clears them, is written, and the bars are drawn again below
 * it, so nothing is ever glued onto a bar or left behind by one.
 */

export interface TerminalStream {
  isTTY?: boolean;
  columns?: number;
  write(text: string): boolean;
}

const CLEAR_LINE = '\r\x1b[2K';
const UP_AND_CLEAR = '\x1b[1A\x1b[2K';

export class Terminal {
  /** The bars on screen, one line each, in the order their calls started. */
  private readonly bars = new Map<object, string>();
  /** Lines the bars take on screen now (0: none drawn; the cursor is at the start of a line). */
  private shown = 0;

  constructor(
    private readonly stdout: TerminalStream,
    readonly stderr: TerminalStream,
  ) {}

  /** Draws (or redraws) the bar of `owner`, one line, below any log output. */
  bar(owner: object, line: string): void {
    this.bars.set(owner, line);
    this.stderr.write(this.clear() + this.draw());
  }

  /** Takes `owner`'s bar down, leaving `line` (its final state) printed where the bars were. */
  endBar(owner: object, line: string | null): void {
    if (!this.bars.delete(owner) && line === null) return;
    this.stderr.write(this.clear() + (line === null ? '' : `${line}\n`) + this.draw());
  }

  /** Writes `text` (whole lines, ending in a newline) to stdout or stderr, around the bars. */
  write(stream: 'stdout' | 'stderr', text: string): void {
    if (this.shown === 0) {
      this[stream].write(text);
    } else if (stream === 'stderr') {
      this.stderr.write(this.clear() + text + this.draw());
    } else {
      // Both streams are the same terminal; writes to a TTY are synchronous, so these stay in order.
      this.stderr.write(this.clear());
      this.stdout.write(text);
      this.stderr.write(this.draw());
    }
  }

  private clear(): string {
    if (this.shown === 0) return '';
    const text = CLEAR_LINE + UP_AND_CLEAR.repeat(this.shown - 1);
    this.shown = 0;
    return text;
  }

  private draw(): string {
    this.shown = this.bars.size;
    return [...this.bars.values()].join('\n');
  }
}

let shared: Terminal | null = null;

/** This process's terminal: task output (printLog) and every progress bar go through it. */
export function terminal(): Terminal {
  shared ??= new Terminal(process.stdout, process.stderr);
  return shared;
}
