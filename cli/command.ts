/** One `clustrix <name>` command: its help text and what it does; resolves with the exit code. */
export interface Command {
  name: string;
  summary: string;
  /** Full `--help` text: usage line, description, options. */
  help: string;
  run(argv: readonly string[]): Promise<number>;
}

/** Exit codes of every command (documented in `clustrix --help` and README). */
export const Exit = {
  ok: 0,
  /** The operation failed (a ✗ in `check`, a service that did not start, a script that failed...). */
  failed: 1,
  /** The command line is wrong. */
  usage: 2,
  /** No service is running for the profile. */
  notRunning: 3,
} as const;
