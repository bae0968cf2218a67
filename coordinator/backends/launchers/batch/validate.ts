/**
 * Checks for user options. Each failure is a TypeError whose message names the option by its path
 * (e.g. `resources.cpusPerTask`) and shows the value it got; tests pin the exact messages.
 */
import { assertNoNul, assertSingleLine } from './shell-quote.js';

/** Shows a value in a message: strings JSON-quoted so empty and whitespace values are visible. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/** Rejects keys that are not options: a typo (`cpus` for `cpusPerTask`) would otherwise be ignored silently. */
export function checkKnownKeys(value: object, known: readonly string[], path: string): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      const where = path ? `${path}.${key}` : key;
      throw new TypeError(`${where} is not an option (known: ${known.join(', ')})`);
    }
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function positiveInt(value: unknown, path: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new TypeError(`${path} must be a positive integer, got ${show(value)}`);
  }
  return value;
}

export function optionalPositiveInt(value: unknown, path: string): number | undefined {
  return value === undefined ? undefined : positiveInt(value, path);
}

/** A non-empty string that fits on one line of a script (directive values, paths, names). */
export function line(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`${path} must be a non-empty string, got ${show(value)}`);
  assertSingleLine(value, path);
  return value;
}

export function optionalLine(value: unknown, path: string): string | undefined {
  return value === undefined ? undefined : line(value, path);
}

/** A list of strings; with `singleLine`, each must fit on one line (directives), else only NUL is barred. */
export function stringList(value: unknown, path: string, singleLine: boolean): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new TypeError(`${path} must be an array of strings, got ${show(value)}`);
  return value.map((item: unknown, i) => {
    const where = `${path}[${i}]`;
    if (typeof item !== 'string') throw new TypeError(`${where} must be a string, got ${show(item)}`);
    if (singleLine) assertSingleLine(item, where);
    else assertNoNul(item, where);
    return item;
  });
}

export function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string, fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new TypeError(`${path} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${show(value)}`);
  }
  return value as T;
}

export function boolean(value: unknown, path: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${path} must be true or false, got ${show(value)}`);
  return value;
}
