/** Output for people (colour only on a terminal, and never with NO_COLOR) and, with --json, programs. */
const colour = process.stdout.isTTY === true && !process.env.NO_COLOR;
const errColour = process.stderr.isTTY === true && !process.env.NO_COLOR;

const wrap = (on: boolean, code: string) => (text: string): string => (on ? `\x1b[${code}m${text}\x1b[0m` : text);

export const green = wrap(colour, '32');
export const red = wrap(colour, '31');
export const dim = wrap(colour, '2');
export const bold = wrap(colour, '1');
export const errRed = wrap(errColour, '31');

export function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function json(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** `clustrix: message` (and `  hint: ...`) on stderr. */
export function fail(message: string): void {
  process.stderr.write(`${errRed('clustrix:')} ${message}\n`);
}

/** Columns padded to the widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [bold(line(header)), ...rows.map(line)].join('\n');
}

export function formatBytes(n: number): string {
  if (n <= 0) return '-';
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KiB`;
  if (n < 1024 ** 3) return `${Math.round(n / 1024 / 1024)} MiB`;
  return `${(n / 1024 ** 3).toFixed(1)} GiB`;
}

export function formatMs(ms: number | null): string {
  if (ms === null) return 'unlimited';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * An error's words as a command line user acts on them: the library's errors name API options
 * (`pass configFile`), the CLI's user types flags (`--config <file>`).
 */
export function cliWords(text: string): string {
  return text
    .replace(/\bpass configFile\b/g, 'pass --config <file>')
    .replace(/pass profile: '<name>' to Cluster\.start\(\)/g, 'name the profile on the command line');
}
