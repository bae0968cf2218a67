/**
 * Which installed packages cannot be bundled: native addons. esbuild has no loader for `.node`
 * files, and the helpers that find an addon at run time (node-gyp-build, bindings, napi-rs'
 * generated loader) look for it next to the package's own files, which a bundle no longer has.
 * Such a package stays external and is made resolvable on the agent instead (see dependencies.ts).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Dependencies that mean "this package loads a compiled addon at run time". */
const ADDON_HELPERS = ['node-gyp-build', 'bindings', 'prebuild-install', '@mapbox/node-pre-gyp', 'node-addon-api', 'node-gyp-build-optional-packages'];

/** Enough to find a `prebuilds/` or `build/Release/` addon, not enough to walk a huge package. */
const SCAN_DEPTH = 4;
const SCAN_ENTRIES = 2000;

interface PackageJson {
  name?: unknown;
  gypfile?: unknown;
  binary?: unknown;
  napi?: unknown;
  dependencies?: unknown;
  optionalDependencies?: unknown;
  peerDependencies?: unknown;
}

const verdicts = new Map<string, string | null>();

/** `@scope/name` or `name` of a bare specifier (`@scope/name/sub/path` → `@scope/name`); undefined for relative, absolute and `node:` ones. */
export function packageNameOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || /^[a-z][a-z0-9+.-]*:/i.test(specifier)) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return name && !(specifier.startsWith('@') && parts.length < 2) ? name : undefined;
}

/** The directory of package `name` as Node would find it from `fromDir`: the nearest `node_modules/<name>` up the tree. */
export function findPackageDir(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Why the package in `dir` is a native addon (`'it has a gypfile'`, `'it depends on node-gyp-build'`,
 * `'it ships xxhash.linux-x64-gnu.node'`...), or null when it is plain JavaScript. Cached per
 * directory: installed packages do not change while a program runs.
 */
export function nativeReason(dir: string): string | null {
  let verdict = verdicts.get(dir);
  if (verdict === undefined) {
    verdict = inspect(dir);
    verdicts.set(dir, verdict);
  }
  return verdict;
}

function inspect(dir: string): string | null {
  const pkg = readPackageJson(dir);
  if (!pkg) return null;
  if (pkg.gypfile === true) return 'its package.json has gypfile: true';
  if (pkg.binary !== undefined) return 'its package.json has a binary field (node-pre-gyp)';
  if (pkg.napi !== undefined) return 'its package.json has a napi field (napi-rs)';
  for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies'] as const) {
    const helper = ADDON_HELPERS.find((h) => hasKey(pkg[field], h));
    if (helper) return `it depends on ${helper}`;
  }
  const own = findAddon(dir);
  if (own) return `it ships ${own}`;
  // The prebuilt pattern (napi-rs, esbuild, swc): the binary comes as a per-platform optional dependency.
  const optional = isRecord(pkg.optionalDependencies) ? Object.keys(pkg.optionalDependencies) : [];
  for (const name of optional) {
    const depDir = findPackageDir(name, dir);
    const addon = depDir === undefined ? undefined : findAddon(depDir);
    if (addon) return `its optional dependency ${name} ships ${addon}`;
  }
  return null;
}

/** The first `.node` file in the package (not in its own node_modules), breadth first, bounded. */
function findAddon(root: string): string | undefined {
  let level = [root];
  let seen = 0;
  for (let depth = 0; depth < SCAN_DEPTH && level.length > 0; depth++) {
    const next: string[] = [];
    for (const dir of level) {
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch {
        continue;
      }
      for (const entry of entries) {
        if (++seen > SCAN_ENTRIES) return undefined;
        if (entry.isFile() && entry.name.endsWith('.node')) return entry.name;
        if (entry.isDirectory() && entry.name !== 'node_modules' && !entry.name.startsWith('.')) next.push(join(dir, entry.name));
      }
    }
    level = next;
  }
  return undefined;
}

function readPackageJson(dir: string): PackageJson | undefined {
  try {
    const parsed: unknown = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    return isRecord(parsed) ? (parsed as PackageJson) : undefined;
  } catch {
    return undefined;
  }
}

function hasKey(value: unknown, key: string): boolean {
  return isRecord(value) && Object.hasOwn(value, key);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
