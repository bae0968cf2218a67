/**
 * Finds the variables a shipped function reads from its enclosing scope. Those do not travel with
 * its source, so on the agent they would be ReferenceErrors (or, worse, different globals); we
 * report them before anything is sent.
 */
import { createHash } from 'node:crypto';
import { parse, type Node as AcornNode } from 'acorn';
import { analyze } from 'eslint-scope';
import type { Program } from 'estree';
import { FunctionNotShippableError } from './code-errors.js';
import { WORKER_GLOBALS } from './worker-globals.js';

/**
 * Names that resolve on the agent: the globals of this Node process (an agent's worker has the
 * same set), the ones the agent's worker adds, and a floor of standard names in case the
 * coordinator runs somewhere that lacks some. Computed once at load, so globals a user program
 * assigns later (which the agent would not have) are not mistaken for built-ins.
 */
const AGENT_GLOBALS: ReadonlySet<string> = new Set([
  ...Object.getOwnPropertyNames(globalThis).filter((name) => !isTestRunnerGlobal(name)),
  'undefined', 'NaN', 'Infinity', 'globalThis', 'global',
  'console', 'process', 'Buffer', 'URL', 'URLSearchParams', 'TextEncoder', 'TextDecoder',
  'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'clearImmediate',
  'queueMicrotask', 'structuredClone', 'fetch', 'AbortController', 'AbortSignal', 'performance',
  'crypto', 'atob', 'btoa', 'WebAssembly', 'SharedArrayBuffer', 'Atomics',
  ...WORKER_GLOBALS,
]);

// vitest puts its own state on globalThis; agents do not have it.
function isTestRunnerGlobal(name: string): boolean {
  return name.startsWith('__vitest') || name.startsWith('__vite_');
}

/**
 * vitest (vite's SSR transform) rewrites `join(...)` after `import { join } from 'node:path'` into
 * `__vite_ssr_import_1__.join(...)` (`__vi_import_1__` when the file uses vi.mock); we report
 * `join`, the name the user wrote.
 */
const VITE_IMPORT = /^__(vite_ssr_import|vi_import)_\d+__$/;
/** Likewise `import.meta`, which only modules have: the error then points at cluster.module. */
const VITE_IMPORT_META = '__vite_ssr_import_meta__';

/** eslint-scope only distinguishes ES5 from ES2015+; any recent year means "all of it". */
const LATEST_ECMA_VERSION = 2025;

/** Bounded so a program that generates functions in a loop does not grow the cache forever. */
const CACHE_LIMIT = 2048;
const cache = new Map<string, readonly string[]>();

/**
 * The free variables of `source` (a function or class expression) that are not globals on the
 * agent, in order of first use. A name used only as `typeof name` is not reported: that cannot
 * throw, and it is how code probes for optional globals (`typeof window`).
 *
 * @throws FunctionNotShippableError (code `FUNCTION_NOT_SHIPPABLE`) when `source` does not parse as an expression in
 *   a script (for instance it uses `import.meta`, which only modules have).
 */
export function findCapturedVariables(source: string): string[] {
  return [...capturedVariables(source, createHash('sha256').update(source).digest('hex'))];
}

/**
 * Same as findCapturedVariables, for callers that already hold the source's hash; `name` is the
 * function's name for the error message. The result is shared: do not mutate it.
 */
export function capturedVariables(source: string, hash: string, name = ''): readonly string[] {
  const hit = cache.get(hash);
  if (hit) return hit;
  const found = Object.freeze(analyzeSource(source, name));
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(hash, found);
  return found;
}

function analyzeSource(source: string, name: string): string[] {
  let ast: AcornNode;
  try {
    // The agent evaluates `(source)` with indirect eval: a sloppy script, so parse exactly that.
    // eslint-scope reads `range` to tell a parameter default's scope from the body's.
    ast = parse(`(${source});`, { ecmaVersion: 'latest', sourceType: 'script', ranges: true });
  } catch (error) {
    throw new FunctionNotShippableError(name, `its source does not parse as an expression in a script (${(error as Error).message})`, {
      cause: error,
      hint: 'code that uses import.meta or other module-only syntax must be put in a module and shipped with cluster.module(url)',
    });
  }
  const { typeofOnly, viteImportMembers } = inspect(ast);
  const scopes = analyze(ast as unknown as Program, { ecmaVersion: LATEST_ECMA_VERSION, sourceType: 'script' });
  const through = scopes.globalScope?.through ?? [];

  const names = new Set<string>();
  for (const reference of through) {
    const id = reference.identifier;
    if (id.type !== 'Identifier') continue;
    if (AGENT_GLOBALS.has(id.name) || typeofOnly.has(id as unknown as AcornNode)) continue;
    if (id.name === VITE_IMPORT_META) names.add('import.meta');
    else if (VITE_IMPORT.test(id.name)) names.add(viteImportMembers.get(id as unknown as AcornNode) ?? id.name);
    else names.add(id.name);
  }
  return [...names];
}

/**
 * One walk over the tree for the two facts the scope analysis cannot tell us: which identifiers
 * are the operand of `typeof`, and which member a vitest import alias is accessed with.
 */
function inspect(root: AcornNode): { typeofOnly: Set<AcornNode>; viteImportMembers: Map<AcornNode, string> } {
  const typeofOnly = new Set<AcornNode>();
  const viteImportMembers = new Map<AcornNode, string>();
  const stack: AcornNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as AcornNode & Record<string, unknown>;
    if (node.type === 'UnaryExpression' && node.operator === 'typeof' && isNode(node.argument) && node.argument.type === 'Identifier') {
      typeofOnly.add(node.argument);
    } else if (node.type === 'MemberExpression' && isNode(node.object) && node.object.type === 'Identifier') {
      const member = memberName(node);
      if (member !== undefined) viteImportMembers.set(node.object, member);
    }
    for (const key of Object.keys(node)) {
      const child = node[key];
      if (Array.isArray(child)) {
        for (const item of child) if (isNode(item)) stack.push(item);
      } else if (isNode(child)) {
        stack.push(child);
      }
    }
  }
  return { typeofOnly, viteImportMembers };
}

function memberName(node: AcornNode & Record<string, unknown>): string | undefined {
  const property = node.property as (AcornNode & { name?: unknown; value?: unknown }) | undefined;
  if (!property) return undefined;
  if (!node.computed && property.type === 'Identifier' && typeof property.name === 'string') return property.name;
  if (node.computed && property.type === 'Literal' && typeof property.value === 'string') return property.value;
  return undefined;
}

function isNode(value: unknown): value is AcornNode {
  return typeof value === 'object' && value !== null && typeof (value as { type?: unknown }).type === 'string';
}
