import { inspect, type InspectOptionsStylized } from 'node:util';

/**
 * Makes `target` (a class prototype, or a plain object) print as `name { ...summary }` and nothing
 * else: util.inspect and console.log at any depth and with showHidden, and JSON.stringify. For
 * objects that hold a secret (the cluster token or its digest, a TLS or SSH key, a passphrase, a
 * service credential) somewhere inside: one debugging `console.log(cluster)` must not print it.
 * The properties are not enumerable, so a spread copy of a plain object drops them (and is then
 * an ordinary object again).
 */
export function showOnly<T extends object>(target: T, name: string, summary: (self: T) => Record<string, unknown>): T {
  Object.defineProperty(target, inspect.custom, {
    value(this: T, _depth: number, options: InspectOptionsStylized, show: typeof inspect): string {
      return `${name} ${show(summary(this), options)}`;
    },
  });
  Object.defineProperty(target, 'toJSON', {
    value(this: T): Record<string, unknown> {
      return summary(this);
    },
  });
  return target;
}
