/**
 * The leaves every options schema is built from (cluster, task, map, actor and connect options, and
 * the config file's profiles). Each leaf's error message is what it accepts ('a positive integer'):
 * parse-options.ts turns an issue into `<path>: expected <that>, got <value>`, so a leaf says it
 * once and every path that checks the value says it the same way.
 */
import { z } from 'zod';
import { MAX_TIMER_MS } from '../../protocol/durations.js';

/** Compiles only when T is assignable to U. */
export type Assignable<T extends U, U> = T;
/** Compiles only when T is `never`: "no key was forgotten". */
export type None<T extends never> = T;
/**
 * `never` when the hand-written interface T and the schema input S accept the same values under
 * the same keys, else what differs: `None<Differences<T, S>>` keeps the interface users read and
 * the schema that runs in step.
 */
export type Differences<T, S> = [T] extends [S]
  ? [S] extends [T]
    ? Exclude<keyof T, keyof S> | Exclude<keyof S, keyof T>
    : 'the schema accepts values the interface does not'
  : 'the interface allows values the schema does not';

/** A schema whose input and output read as the interface T in hovers and .d.ts (Differences checks that they agree). */
export function as<T>(schema: z.ZodType<T, T>): z.ZodType<T, T> {
  return schema;
}

export const nonEmpty = (what = 'a non-empty string') => z.string({ error: what }).min(1, { error: what });
/** A non-empty string written into a job script or a shell command: one line, no NUL. */
export const line = (what = 'a non-empty string on one line') => z.string({ error: what }).regex(/^[^\0\r\n]+$/, { error: what });
export const int = (min: number, what: string, max = Number.MAX_SAFE_INTEGER) =>
  z.int({ error: what }).min(min, { error: what }).max(max, { error: what });
export const positiveInt = () => int(1, 'a positive integer');
export const nonNegativeInt = () => int(0, 'a non-negative integer');
/**
 * Durations: whole milliseconds only, up to the longest timer Node can set (a longer one fires at
 * once). No '5s' strings: a value means what it means in code and in a file.
 */
export const ms = (min: number) => int(min, `a whole number of milliseconds from ${min} to ${MAX_TIMER_MS} (the longest timer Node can set)`, MAX_TIMER_MS);
export const flag = () => z.boolean({ error: 'true or false' });
export const strings = (what = 'a list of strings') => z.array(z.string({ error: 'a string' }), { error: what }).readonly();
export const stringMap = (what: string) => z.record(z.string(), z.string({ error: 'a string' }), { error: what }).readonly();
export const oneOrMore = (what: string) =>
  z.union([nonEmpty(what), z.array(nonEmpty(what), { error: what }).min(1, { error: what }).readonly()], { error: what });
/** A key a file must not hold; the message is shown as is, so it says why and what to do instead. */
export const forbidden = (why: string) => z.never({ error: why });
export const mapping = (what: string) => ({ error: `a mapping of ${what}` });
/** A value only code can pass (a function, an AbortSignal): checked by `ok`, typed as T. */
export const custom = <T>(what: string, ok: (value: unknown) => boolean) => z.custom<T>(ok, { error: what });
/** A secret: checked like any value, but its value is never repeated in a message (nor kept in one's cause). */
export const secret = <T>(what: string, ok: (value: unknown) => boolean) => z.custom<T>(ok, { error: what, params: { secret: true } });
export const fn = <T extends (...args: never[]) => unknown>(what: string) => custom<T>(what, (v) => typeof v === 'function');
