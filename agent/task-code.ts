import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { materializeModule } from './module-files.js';
import { importFile } from './import-file.js';

export type CodeKind = 'function' | 'module';

export interface CodeSource {
  hash: string;
  kind: CodeKind;
  source: string;
}

/**
 * Globals that shipped function sources may rely on: `require` (ESM has none), and `__name`, the
 * helper esbuild/tsx inject with keepNames. Defined once per thread before any code is compiled.
 */
export function defineTaskGlobals(): void {
  const g = globalThis as Record<string, unknown>;
  if (g.require === undefined) g.require = createRequire(join(process.cwd(), 'clustrix-task.cjs'));
  if (g.__name === undefined) g.__name = (target: unknown) => target;
}

/** Compiled code of one thread, by hash: a function, or a module namespace. */
export class CodeCache {
  private readonly functions = new Map<string, unknown>();
  private readonly modules = new Map<string, Promise<Record<string, unknown>>>();

  constructor(private readonly cacheDir: string) {}

  has(hash: string): boolean {
    return this.functions.has(hash) || this.modules.has(hash);
  }

  add(code: CodeSource): void {
    if (this.has(code.hash)) return;
    if (code.kind === 'function') {
      // Indirect eval: global scope, so the source sees only globals, as it would on any agent.
      this.functions.set(code.hash, (0, eval)(`(${code.source}\n)`));
    } else {
      const file = materializeModule(this.cacheDir, code.hash, code.source);
      const loaded = importFile(pathToFileURL(file).href) as Promise<Record<string, unknown>>;
      loaded.catch(() => undefined); // reported when a task resolves it
      this.modules.set(code.hash, loaded);
    }
  }

  /** A shipped function compiled already, without waiting a turn (most tasks); undefined otherwise. */
  compiled(hash: string): ((...args: unknown[]) => unknown) | undefined {
    const fn = this.functions.get(hash);
    return typeof fn === 'function' ? (fn as (...args: unknown[]) => unknown) : undefined;
  }

  /** The callable (function, or a module's export); throws when it is not there or not callable. */
  async resolve(hash: string, exportName: string | null): Promise<(...args: unknown[]) => unknown> {
    const fn = this.functions.get(hash);
    if (fn !== undefined) return callable(fn, 'the shipped function');
    const mod = this.modules.get(hash);
    if (!mod) throw new Error(`code ${hash} was never sent to this agent`);
    const ns = await mod;
    const name = exportName ?? 'default';
    if (!(name in ns)) {
      throw Object.assign(new Error(`the module has no export '${name}' (exports: ${Object.keys(ns).join(', ') || 'none'})`), { code: 'EXPORT_NOT_FOUND' });
    }
    return callable(ns[name], `export '${name}'`);
  }
}

function callable(value: unknown, what: string): (...args: unknown[]) => unknown {
  if (typeof value !== 'function') throw new TypeError(`${what} is not a function (it is ${typeof value})`);
  return value as (...args: unknown[]) => unknown;
}
