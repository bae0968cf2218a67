import { accessSync, constants, lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

/**
 * The entry of the agent's one-file bundle (agent.cjs). The agent itself (agent/main.ts and all it
 * imports, zod and ws among them: about 1 MB) is embedded here as source and compiled through
 * `vm.Script` with V8's code cache, so an agent's start does not parse and compile that megabyte
 * again: the first start on a machine writes the cache, later ones read it (a third of a cold
 * start was compilation). Any failure of the cache falls back to compiling, never to not starting.
 * The source rides at the end of this file as `//`-prefixed lines after a marker line, not as a
 * string literal, so loading this module scans a comment instead of unescaping a megabyte.
 * The build emits it as CommonJS (scripts/build-agent.mjs says why), `import.meta.url` then being
 * the bundle's own URL made from `__filename`.
 */
/** The line after which the build appends the agent's source, each line prefixed with `//`. */
const CORE_MARKER = '//# clustrix-agent-core';
/** Content hash of the embedded source: a cache is only ever used for the code it was made from. */
declare const __CLUSTRIX_CORE_HASH__: string;

/**
 * Written a while after the agent reached a coordinator (or at its exit, whichever comes first),
 * so the cache holds the functions a start compiles, not only the top level. Never for a run that
 * reached none (stopped at the config check, could not connect): it compiled too little, and its
 * cache, never rejected, slowed every later start on the machine by ~20 ms (issue 16).
 */
const WRITE_AFTER_MS = 1_500;

const url = import.meta.url;
const coreSource = embeddedSource(fileURLToPath(url));
const cacheFile = cachePath();
const cachedData = cacheFile === null ? undefined : readCache(cacheFile);
// The core expects `require` (Node's builtins, msgpackr's optional native part) and the host's
// import() and URL (agent/import-file.ts, import.meta.url in the core).
const script = new Script(`(function (require, __clustrixHost) {\n${coreSource}\n})`, {
  filename: `${url}#agent`,
  lineOffset: -1,
  cachedData,
});
let reachedCoordinator = (): void => undefined;
if (cacheFile !== null && (cachedData === undefined || script.cachedDataRejected === true)) {
  let written = false;
  const write = (): void => {
    if (written) return;
    written = true;
    writeCache(cacheFile, script);
  };
  reachedCoordinator = () => {
    setTimeout(write, WRITE_AFTER_MS).unref();
    process.once('exit', write);
  };
}
const core = script.runInThisContext() as (require: NodeJS.Require, host: { url: string; import(url: string): Promise<unknown>; reachedCoordinator(): void }) => void;
core(createRequire(url), { url, import: (specifier) => import(specifier), reachedCoordinator: () => reachedCoordinator() });

/** The agent's source, from the comment lines after the marker the build appends to this file. */
function embeddedSource(file: string): string {
  // The build checks that the bundle is ASCII (esbuild escapes the rest), so latin1 reads it
  // exactly, and faster than a UTF-8 decode of the megabyte.
  const text = readFileSync(file, 'latin1');
  const at = text.indexOf(`\n${CORE_MARKER}\n`);
  if (at < 0) throw new Error(`${file} is not a complete agent bundle (no ${CORE_MARKER} line): rebuild it`);
  // One pass over the megabyte (a split/map/join cost ~3 ms of every start).
  return text.slice(at + CORE_MARKER.length + 4).replaceAll('\n//', '\n');
}

/**
 * Beside the bundle when that directory is writable (the content-addressed remote cache, or the
 * package's own dist), else a directory of this user's under the temp dir that nobody else can
 * write (a cache planted by someone else would be code run as us), else none.
 */
function cachePath(): string | null {
  const name = `.agent-${__CLUSTRIX_CORE_HASH__.slice(0, 16)}-${process.version}-${process.arch}.v8`;
  try {
    const here = dirname(fileURLToPath(url));
    accessSync(here, constants.W_OK);
    return join(here, name);
  } catch {
    // not writable: try the private temp dir
  }
  try {
    const uid = process.getuid?.() ?? -1;
    const dir = join(tmpdir(), `clustrix-${uid}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const st = lstatSync(dir);
    if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o022) !== 0) return null;
    return join(dir, name);
  } catch {
    return null;
  }
}

function readCache(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

function writeCache(file: string, compiled: Script): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, compiled.createCachedData(), { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    // a read-only or full disk: the next start compiles again
  }
}
