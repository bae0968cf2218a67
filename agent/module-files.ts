/**
 * Module bundles on the agent's disk (Node imports files, not strings), one directory per code hash:
 *
 *   <cacheDir>/<hash>/module.mjs                 the bundle, source map inline
 *   <cacheDir>/<hash>/node_modules/<name> → dir  a link per external package (protocol/module-links.ts)
 *
 * The bundle's `import 'pkg'` walks up from module.mjs and finds the link; Node follows it to the
 * package's real path, from which the package's own `require`s (its addon, its dependencies) resolve
 * as in the project it came from. A directory is built under a temporary name and renamed into
 * place, so a thread or a second agent never sees half of one; the rename that loses finds the
 * winner's identical copy.
 *
 * The cache is shared by every agent of this user on the machine and bounded: pruneCodeCache (at
 * agent start, once its hello has left) removes entries unused for a week, then the least recently
 * used beyond the limits.
 * Using an entry refreshes its mtime.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { readLinks } from '../protocol/module-links.js';

const MODULE_FILE = 'module.mjs';

/** Writes the bundle (once) and returns the path of its module.mjs. */
export function materializeModule(cacheDir: string, hash: string, source: string): string {
  const dir = join(cacheDir, hash);
  const file = join(dir, MODULE_FILE);
  if (existsSync(file)) {
    touch(dir);
    return file;
  }
  const links = readLinks(source);
  if (links instanceof Error) throw links;
  mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
  const tmp = `${dir}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    mkdirSync(tmp, { mode: 0o700 });
    writeFileSync(join(tmp, MODULE_FILE), source, { mode: 0o600 });
    for (const [name, target] of Object.entries(links)) {
      const link = join(tmp, 'node_modules', name);
      mkdirSync(dirname(link), { recursive: true, mode: 0o700 });
      symlinkSync(expandHome(target), link, 'dir');
    }
    renameSync(tmp, dir);
  } catch (error) {
    rmSync(tmp, { recursive: true, force: true });
    // Another thread or agent renamed the same content into place first.
    if (!existsSync(file)) throw error;
  }
  return file;
}

/** `~/x` is the agent's own home: the coordinator cannot know it on every host. */
function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(os.homedir(), path.slice(1)) : path;
}

function touch(path: string): void {
  const now = new Date();
  try {
    utimesSync(path, now, now);
  } catch {
    // pruned meanwhile: the import that follows says so
  }
}

export interface PruneLimits {
  /** Entries unused this long go. @default 7 days */
  maxAgeMs?: number;
  /** At most this many entries stay. @default 256 */
  maxEntries?: number;
  /** At most this many bytes of bundles stay (links are not counted). @default 512 MiB */
  maxBytes?: number;
  /** Entries used this recently stay whatever the limits: another agent may be loading them. @default 1 hour */
  minAgeMs?: number;
}

/** Removes old and surplus entries; never throws (a cache is not worth failing an agent start for). */
export function pruneCodeCache(cacheDir: string, limits: PruneLimits = {}): { removed: number } {
  const maxAgeMs = limits.maxAgeMs ?? 7 * 24 * 3600_000;
  const maxEntries = limits.maxEntries ?? 256;
  const maxBytes = limits.maxBytes ?? 512 * 1024 * 1024;
  const minAgeMs = limits.minAgeMs ?? 3600_000;
  let names: string[];
  try {
    names = readdirSync(cacheDir);
  } catch {
    return { removed: 0 };
  }
  const now = Date.now();
  const entries = names
    .map((name) => {
      const path = join(cacheDir, name);
      try {
        const s = statSync(path);
        const bytes = s.isDirectory() ? sizeOf(join(path, MODULE_FILE)) : s.size;
        return { path, mtimeMs: s.mtimeMs, bytes, stale: name.endsWith('.tmp') };
      } catch {
        return undefined;
      }
    })
    .filter((e) => e !== undefined)
    .sort((a, b) => b.mtimeMs - a.mtimeMs);
  let kept = 0;
  let keptBytes = 0;
  let removed = 0;
  for (const entry of entries) {
    const age = now - entry.mtimeMs;
    const over = kept >= maxEntries || keptBytes + entry.bytes > maxBytes;
    if (age >= minAgeMs && (entry.stale || age > maxAgeMs || over)) {
      try {
        rmSync(entry.path, { recursive: true, force: true });
        removed++;
        continue;
      } catch {
        // kept, and counted
      }
    }
    kept++;
    keptBytes += entry.bytes;
  }
  return { removed };
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
