/**
 * Bundles a module with everything it imports into one ESM file, so an agent needs nothing but
 * the text: no TypeScript, no copy of the user's tree, and no node_modules except for the
 * packages that cannot be bundled (native addons, and those the caller names), which are listed
 * in `externals` for dependencies.ts to make resolvable on the agents.
 *
 * The bundle carries an inline source map whose sources are absolute file: URLs, so a stack on
 * any agent (which enables source maps) names the user's files: `file:///…/work.ts:12:7`.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build, type Message, type Metafile, type OutputFile } from 'esbuild';
import { nativeExternals, ownImportMeta, type NativeFindings } from './bundle-plugins.js';
import { ConfigError } from '../errors/errors.js';
import { ModuleBundleError, type BundleMessage } from './code-errors.js';
import { findPackageDir, packageNameOf } from './native-packages.js';

export interface BundleOptions {
  /**
   * Imports left out of the bundle: the agent must be able to resolve them itself (installed
   * next to it, or a node builtin). esbuild's syntax, so `'pg'` and `'@aws-sdk/*'` both work.
   * @default []
   */
  external?: string[];
}

/** A package the bundle imports but does not contain. */
export interface ExternalPackage {
  /** `name` or `@scope/name`. */
  readonly name: string;
  /** Why it is external: `named in external`, or what makes it a native addon. */
  readonly reason: string;
  /** The file that imports it (the first one found). */
  readonly importer: string;
  /** Its directory as Node finds it from `importer`; undefined when it is not installed here. */
  readonly dir: string | undefined;
}

export interface BundledModule {
  /** The bundled ESM source, its source map inline. */
  readonly source: string;
  /** sha256 (hex) of `source`. */
  readonly hash: string;
  /** Absolute path of the entry module. */
  readonly path: string;
  /** Names the entry module exports (`default` included when it has one). */
  readonly exports: readonly string[];
  /** Packages left out of the bundle (node builtins are not listed), by name. */
  readonly externals: readonly ExternalPackage[];
}

/**
 * ESM has no `require`, but CommonJS dependencies bundled into ESM still call it for node
 * builtins; esbuild's shim forwards to a `require` in scope. The import's local name is unusual
 * because the banner is pasted verbatim, outside esbuild's renaming.
 */
const REQUIRE_BANNER =
  "import { createRequire as __clustrixCreateRequire } from 'node:module';\n" +
  'const require = __clustrixCreateRequire(import.meta.url);';

interface InputStamp {
  path: string;
  mtimeMs: number;
  size: number;
}

interface CacheEntry {
  module: BundledModule;
  inputs: InputStamp[];
}

const cache = new Map<string, CacheEntry>();
/** Concurrent calls for the same module share one build. */
const inFlight = new Map<string, Promise<BundledModule>>();

/**
 * Bundles `entry` (a path, relative to the working directory, or a file: URL). A second call
 * with the same entry and options returns the previous result without rebuilding, as long as
 * none of the files that went into it changed (size and mtime).
 *
 * @throws ModuleBundleError (code `MODULE_BUNDLE_FAILED`) with esbuild's first diagnostics.
 */
export async function bundleModule(entry: string | URL, options: BundleOptions = {}): Promise<BundledModule> {
  const path = entryPath(entry);
  const external = [...new Set(options.external ?? [])].sort();
  const key = JSON.stringify([path, external]);

  const cached = cache.get(key);
  if (cached && (await unchanged(cached.inputs))) return cached.module;

  let running = inFlight.get(key);
  if (!running) {
    running = rebuild(path, external, key).finally(() => inFlight.delete(key));
    inFlight.set(key, running);
  }
  return running;
}

function entryPath(entry: string | URL): string {
  if (entry instanceof URL || entry.startsWith('file:')) {
    const url = new URL(entry);
    if (url.protocol !== 'file:') throw new ConfigError(`module: expected a file: URL or a path, got ${url.href}`);
    return fileURLToPath(url);
  }
  return isAbsolute(entry) ? entry : resolve(entry);
}

async function rebuild(path: string, external: string[], key: string): Promise<BundledModule> {
  const workingDir = dirname(path);
  const startedMs = Date.now();
  const native: NativeFindings = new Map();
  let result;
  try {
    result = await build({
      entryPoints: [path],
      absWorkingDir: workingDir,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      write: false,
      // Never written (write: false); naming it gives the metafile an output to list exports under.
      outfile: join(workingDir, `${basename(path)}.clustrix-bundle.mjs`),
      metafile: true,
      banner: { js: REQUIRE_BANNER },
      external,
      plugins: [nativeExternals(native), ownImportMeta()],
      // Mappings only: the agent needs positions and file names, the caller has the files.
      sourcemap: 'external',
      sourcesContent: false,
      logLevel: 'silent',
    });
  } catch (error) {
    throw new ModuleBundleError(path, diagnostics(error, workingDir), { cause: error });
  }

  const output = result.outputFiles.find((f) => f.path.endsWith('.mjs'));
  const map = result.outputFiles.find((f) => f.path.endsWith('.map'));
  if (!output) throw new ModuleBundleError(path, [{ text: 'esbuild produced no output' }]);
  const source = map ? `${output.text}${inlineSourceMap(map, dirname(output.path))}` : output.text;
  const module: BundledModule = Object.freeze({
    source,
    hash: createHash('sha256').update(source).digest('hex'),
    path,
    exports: Object.freeze(entryExports(result.metafile)),
    externals: Object.freeze(externalPackages(result.metafile, workingDir, native)),
  });
  const inputs = await stampInputs(result.metafile, workingDir);
  const finishedMs = Date.now();
  // An input saved while esbuild ran may have been read before or after the edit; caching its
  // new mtime could pin the old content. Serve this result, but build again next time. (An mtime
  // past the build's end is clock skew, e.g. on NFS, not an edit: that would never settle.)
  const editedDuringBuild = inputs.some((input) => input.mtimeMs >= startedMs && input.mtimeMs <= finishedMs);
  if (editedDuringBuild) cache.delete(key);
  else cache.set(key, { module, inputs });
  return module;
}

/**
 * The map as a data: URL comment, its sources made absolute file: URLs: Node resolves relative
 * sources against the bundle's own URL, which on an agent is a cache file far from the user's tree.
 */
function inlineSourceMap(map: OutputFile, outDir: string): string {
  const parsed = JSON.parse(map.text) as { sources?: string[]; sourceRoot?: string };
  parsed.sources = (parsed.sources ?? []).map((s) => (/^[a-z-]+:/.test(s) ? s : pathToFileURL(resolve(outDir, s)).href));
  delete parsed.sourceRoot;
  return `\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(parsed)).toString('base64')}\n`;
}

/** Every bare, non-builtin import esbuild left external (ours and the caller's `external`), by package. */
function externalPackages(metafile: Metafile, workingDir: string, native: NativeFindings): ExternalPackage[] {
  const found = new Map<string, ExternalPackage>();
  for (const [input, info] of Object.entries(metafile.inputs)) {
    for (const imported of info.imports) {
      if (!imported.external || isBuiltin(imported.path)) continue;
      const name = packageNameOf(imported.path);
      if (name === undefined || found.has(name)) continue;
      const importer = resolve(workingDir, input.replace(/^[a-z-]+:/, ''));
      found.set(name, { name, reason: native.get(name) ?? 'named in external', importer, dir: findPackageDir(name, dirname(importer)) });
    }
  }
  return [...found.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function entryExports(metafile: Metafile): string[] {
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint !== undefined);
  return output ? [...output.exports] : [];
}

async function stampInputs(metafile: Metafile, workingDir: string): Promise<InputStamp[]> {
  // Inputs are relative to absWorkingDir; virtual ones (esbuild's own, plugins') have a namespace prefix.
  const paths = Object.keys(metafile.inputs)
    .filter((input) => !/^[a-z-]+:/.test(input))
    .map((input) => resolve(workingDir, input));
  return Promise.all(
    paths.map(async (p) => {
      const s = await stat(p);
      return { path: p, mtimeMs: s.mtimeMs, size: s.size };
    }),
  );
}

async function unchanged(inputs: readonly InputStamp[]): Promise<boolean> {
  const now = await Promise.all(inputs.map((input) => stat(input.path).catch(() => undefined)));
  return now.every((s, i) => s !== undefined && s.mtimeMs === inputs[i]?.mtimeMs && s.size === inputs[i]?.size);
}

function diagnostics(error: unknown, workingDir: string): BundleMessage[] {
  const messages = (error as { errors?: Message[] } | undefined)?.errors;
  if (!Array.isArray(messages) || messages.length === 0) {
    return [{ text: error instanceof Error ? error.message : String(error) }];
  }
  return messages.map((m) => ({
    text: m.text,
    file: m.location ? resolve(workingDir, m.location.file) : undefined,
    line: m.location?.line,
    column: m.location?.column,
  }));
}
