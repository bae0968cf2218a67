/**
 * Turns zod issues into the sentences a user reads: the path of the key, what is allowed there and
 * what the file holds instead. Positions in the file are added by the caller, which has the YAML
 * document; this file knows only zod.
 *
 * The leaf schemas carry "what they accept" as their error message ('a positive integer'), so most
 * issues become `expected <message>, got <value>`. The codes handled apart are those whose useful
 * detail is not in the message: unknown keys (allowed keys + a near miss), enum values (the
 * values), unions (the branch the value was meant for), and forbidden keys (the message says why).
 */
import { z } from 'zod';

export type KeyPath = readonly (string | number)[];

export interface Problem {
  /** Where in the data: the offending key for an unknown key, else the value. */
  path: KeyPath;
  /** True when `path` ends at a key that should not be there (its position is the key's). */
  unknownKey: boolean;
  /** True when a required key is absent. */
  missing: boolean;
  /** The sentence after `<path>: `. */
  text: string;
}

type Issue = z.core.$ZodIssue;

export function describeIssues(issues: readonly Issue[], schema: z.ZodType): Problem[] {
  const problems = issues.flatMap((issue) => describeIssue(issue, [], schema));
  // `hots:` for `host:` is one mistake, not two: the unknown key that suggests a missing required
  // key stands for both, so the "missing" report of that key is dropped.
  const suggested = new Set(
    problems.flatMap((p) => {
      const key = p.unknownKey ? p.path.at(-1) : undefined;
      const near = typeof key === 'string' ? closest(key, allowedKeys(schema, p.path.slice(0, -1))) : undefined;
      return near === undefined ? [] : [pathKey([...p.path.slice(0, -1), near])];
    }),
  );
  return problems.filter((p) => !(p.missing && suggested.has(pathKey(p.path))));
}

function pathKey(path: KeyPath): string {
  return JSON.stringify(path);
}

function describeIssue(issue: Issue, base: KeyPath, schema: z.ZodType): Problem[] {
  const path = [...base, ...(issue.path as (string | number)[])];
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(schema, path);
      return issue.keys.map((key) => ({
        path: [...path, key],
        unknownKey: true,
        missing: false,
        text: `unknown key (allowed: ${allowed.join(', ')})${didYouMean(key, allowed)}`,
      }));
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v)));
      const near = typeof issue.input === 'string' ? didYouMean(issue.input, issue.values.filter((v): v is string => typeof v === 'string')) : '';
      return [{ path, unknownKey: false, missing: false, text: `expected ${values.length === 1 ? values[0] : `one of ${values.join(', ')}`}, got ${show(issue.input)}${near}` }];
    }
    case 'invalid_union': {
      // zod reports a union as failed as a whole when every branch failed. The branch worth
      // reporting is the one whose type the value has (a hosts entry that is a mapping: the
      // mapping branch's own issue, such as its bad port), when exactly one does.
      const meant = issue.errors.filter((branch) => !branch.every((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value')));
      if (meant.length === 1 && meant[0]) return meant[0].flatMap((inner) => describeIssue(inner, path, schema));
      return [valueProblem(path, issue)];
    }
    case 'invalid_key': {
      const what = issue.issues[0]?.message ?? issue.message;
      return [{ path, unknownKey: true, missing: false, text: `expected ${what}, got ${show(issue.input)}` }];
    }
    case 'invalid_type':
      if (issue.expected === 'never') return [{ path, unknownKey: true, missing: false, text: issue.message }];
      return [valueProblem(path, issue)];
    case 'custom': {
      // A rule between options speaks in a sentence of its own; a secret's value is never repeated.
      const params = issue.params as { sentence?: boolean; secret?: boolean } | undefined;
      if (params?.sentence) return [{ path, unknownKey: false, missing: false, text: issue.message }];
      if (params?.secret && issue.input !== undefined) return [{ path, unknownKey: false, missing: false, text: `expected ${issue.message} (the value is a secret: not shown)` }];
      return [valueProblem(path, issue)];
    }
    default:
      return [valueProblem(path, issue)];
  }
}

function valueProblem(path: KeyPath, issue: Issue): Problem {
  // YAML has no undefined: a value that is undefined is a required key that is missing.
  if (issue.input === undefined) return { path, unknownKey: false, missing: true, text: `missing, expected ${issue.message}` };
  return { path, unknownKey: false, missing: false, text: `expected ${issue.message}, got ${show(issue.input)}` };
}

/** The keys the object schema at `path` accepts, minus the forbidden ones (they are not choices). */
export function allowedKeys(schema: z.ZodType, path: KeyPath): string[] {
  const object = objectAt(schema, path);
  if (!object) return [];
  return Object.entries(object.shape as Record<string, z.ZodType>)
    .filter(([, field]) => !(unwrap(field) instanceof z.ZodNever))
    .map(([key]) => key);
}

function objectAt(schema: z.ZodType, path: KeyPath): z.ZodObject | undefined {
  const s = unwrap(schema);
  if (s instanceof z.ZodUnion) {
    for (const option of s.options as readonly z.ZodType[]) {
      const found = objectAt(option, path);
      if (found) return found;
    }
    return undefined;
  }
  const [head, ...rest] = path;
  if (head === undefined) return s instanceof z.ZodObject ? s : undefined;
  if (s instanceof z.ZodObject) {
    const field = (s.shape as Record<string, z.ZodType | undefined>)[String(head)];
    return field ? objectAt(field, rest) : undefined;
  }
  if (s instanceof z.ZodArray) return objectAt(s.element as z.ZodType, rest);
  if (s instanceof z.ZodRecord) return objectAt(s.valueType as z.ZodType, rest);
  return undefined;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  while (s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodReadonly) s = s.unwrap() as z.ZodType;
  return s;
}

/** `; did you mean 'host'?` when a choice is close to `input`, else ''. */
export function didYouMean(input: string, choices: readonly string[]): string {
  const best = closest(input, choices);
  return best === undefined ? '' : `; did you mean '${best}'?`;
}

/**
 * The choice nearest to `input` within 2 edits (ignoring case), and fewer edits than half its
 * length, so `gpu` does not suggest `hpc`; a swap of two neighbours counts as one edit (`slrum`).
 */
function closest(input: string, choices: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.min(3, Math.ceil(input.length / 2));
  for (const choice of choices) {
    const d = editDistance(input.toLowerCase(), choice.toLowerCase());
    if (d < bestDistance && choice !== input) [best, bestDistance] = [choice, d];
  }
  return best;
}

/** Optimal string alignment distance (Levenshtein plus transpositions); the strings are short names. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(at(i, j), at(i - 2, j - 2) + 1);
    }
  }
  return at(a.length, b.length);
}

/** `profiles.hpc.hosts[0].port`; keys that are not plain names are quoted (`labels["app.kubernetes.io/name"]`). */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(segment)) out += out ? `.${segment}` : segment;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Problems listed in one message; the rest are counted. */
const MAX_REPORTED = 10;

/**
 * The one message for a list of problems, wherever the values came from: a line each,
 * `<where>: <key path>: <text>`. `where` is the file position for a config file, and nothing for
 * options passed in code (whose key path starts at `options`), so the text after it is the same.
 */
export function reportProblems(problems: readonly (Problem & { where?: string | undefined })[]): string {
  const lines = problems.slice(0, MAX_REPORTED).map((p) => {
    const what = p.path.length === 0 ? p.text : `${formatPath(p.path)}: ${p.text}`;
    return p.where === undefined ? what : `${p.where}: ${what}`;
  });
  if (problems.length > MAX_REPORTED) lines.push(`... and ${problems.length - MAX_REPORTED} more`);
  return lines.join('\n');
}

/** A value as the message shows it: strings JSON-quoted so empty and padded values are visible. */
export function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return 'a function';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}
