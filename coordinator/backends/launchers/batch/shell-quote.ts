/**
 * Quoting for everything the batch launchers hand to a shell or a scheduler directive.
 *
 * One rule, POSIX single quotes: inside '...' no character is special, so the only thing to escape
 * is the quote itself, which becomes '\'' (close, escaped quote, reopen). That holds for every
 * byte except NUL, which no C-string argv or file line can carry at all.
 */

/** Quotes `value` as one shell word that reaches the command byte for byte. */
export function shellQuote(value: string): string {
  assertNoNul(value, 'a shell word');
  // Words made only of these characters need no quotes; keeping them bare keeps scripts readable.
  // (No `=`: a bare first word `a=b` would be an assignment, not a command.)
  if (value !== '' && /^[A-Za-z0-9_@%+:,./-]+$/.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Quotes each word and joins them with spaces: a command line whose argv is exactly `words`. */
export function shellJoin(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}

/**
 * Throws unless `value` can live on one line of a script: scheduler directives (`#SBATCH ...`) and
 * `export` lines end at the newline, so a newline inside a value would end the directive early and
 * smuggle the rest in as a new line. `what` names the value in the message, e.g. `resources.account`.
 */
export function assertSingleLine(value: string, what: string): void {
  assertNoNul(value, what);
  if (/[\n\r]/.test(value)) {
    throw new TypeError(`${what} must be a single line (no newline or carriage return), got ${JSON.stringify(value)}`);
  }
}

/** NUL ends a C string: the scheduler or the shell would silently truncate the value there. */
export function assertNoNul(value: string, what: string): void {
  if (value.includes('\0')) throw new TypeError(`${what} must not contain a NUL character, got ${JSON.stringify(value)}`);
}
