/** A small argv parser: `--flag`, `--key value`, `--key=value`, `-n 2`; the rest are positionals. */
export interface Parsed {
  positionals: string[];
  flags: Map<string, string | true>;
}

/** Thrown for a command line that cannot work; main prints it with the usage and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** `valued`: flags that take a value; `aliases`: short → long. Everything after `--` is positional. */
export function parseArgs(argv: readonly string[], spec: { valued: readonly string[]; boolean: readonly string[]; aliases?: Record<string, string> }, stopAtFirstPositional = false): Parsed {
  const positionals: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      if (stopAtFirstPositional) {
        positionals.push(...argv.slice(i + 1));
        break;
      }
      continue;
    }
    let name = arg.startsWith('--') ? arg.slice(2) : arg.slice(1);
    let value: string | undefined;
    const eq = name.indexOf('=');
    if (eq >= 0) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    name = spec.aliases?.[name] ?? name;
    if (spec.valued.includes(name)) {
      if (value === undefined) {
        value = argv[++i];
        if (value === undefined) throw new UsageError(`--${name} needs a value`);
      }
      flags.set(name, value);
    } else if (spec.boolean.includes(name)) {
      if (value !== undefined) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
    } else {
      throw new UsageError(`unknown option ${arg}`);
    }
  }
  return { positionals, flags };
}

export function stringFlag(p: Parsed, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function intFlag(p: Parsed, name: string, min: number): number | undefined {
  const v = stringFlag(p, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number >= ${min}, got '${v}'`);
  return n;
}
