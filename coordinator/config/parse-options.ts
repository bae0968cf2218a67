/**
 * Options passed in code, checked against their schema: the value parsed, or a ConfigError whose
 * lines read `options.heartbeatMs: expected ..., got "5s"`, word for word what a config file says
 * after its `FILE:line:col: profiles.<name>.` (both come from issues.ts).
 */
import type { z } from 'zod';
import { ConfigError } from '../errors/errors.js';
import { describeIssues, reportProblems, type KeyPath } from './issues.js';

/** `value` as `schema` parses it; every problem is named from `root` (`['options']`, `['items']`). */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, root: KeyPath = ['options']): z.output<S> {
  const parsed = schema.safeParse(value, { reportInput: true });
  if (parsed.success) return parsed.data;
  const problems = describeIssues(parsed.error.issues, schema).map((p) => ({ ...p, path: [...root, ...p.path] }));
  // No cause: zod's issues hold the inputs, secrets among them; the message says all there is.
  throw new ConfigError(reportProblems(problems));
}
