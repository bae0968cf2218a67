// The agent's module cache on disk: one directory per code hash with links to external packages,
// bounded by age, count and bytes, least recently used first, never following a link.
import { existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { materializeModule, pruneCodeCache } from '../../agent/module-files.js';
import { withLinks } from '../../protocol/module-links.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clustrix-code-cache-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const HOUR = 3600_000;

/** A cache entry last used `ageMs` ago, holding `bytes` of bundle. */
function entry(name: string, ageMs: number, bytes = 10): string {
  const path = join(dir, 'cache', name);
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'module.mjs'), 'x'.repeat(bytes));
  const when = new Date(Date.now() - ageMs);
  utimesSync(path, when, when);
  return path;
}

describe('materializeModule', () => {
  it('writes <hash>/module.mjs and links node_modules/<name> to each directory of the header, ~/ being the home', async () => {
    const pkg = join(dir, 'project', 'node_modules', '@scope', 'pkg');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"name":"@scope/pkg","type":"module","exports":"./index.js"}');
    writeFileSync(join(pkg, 'index.js'), 'export const where = import.meta.url;\n');
    const source = withLinks("import { where } from '@scope/pkg';\nexport const found = where;\n", { '@scope/pkg': pkg, other: '~/somewhere' });
    const file = materializeModule(join(dir, 'cache'), 'h1', source);
    expect(file).toBe(join(dir, 'cache', 'h1', 'module.mjs'));
    expect(readlinkSync(join(dir, 'cache', 'h1', 'node_modules', 'other'))).toBe(join(homedir(), 'somewhere'));
    const mod = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { found: string };
    expect(mod.found).toBe(pathToFileURL(realpathSync(join(pkg, 'index.js'))).href);
    expect(materializeModule(join(dir, 'cache'), 'h1', source)).toBe(file);
  });

  it('refuses a header that names a path instead of a package', () => {
    const source = `/*clustrix:links {"../../etc":"/tmp"}*/export {};`;
    expect(() => materializeModule(join(dir, 'cache'), 'h2', source)).toThrow(/bad entry/);
    expect(existsSync(join(dir, 'cache', 'h2'))).toBe(false);
  });
});

describe('pruneCodeCache', () => {
  it('removes entries unused for longer than maxAgeMs and keeps the others', () => {
    const old = entry('old', 8 * 24 * HOUR);
    const recent = entry('recent', 2 * HOUR);
    expect(pruneCodeCache(join(dir, 'cache'))).toEqual({ removed: 1 });
    expect(existsSync(old)).toBe(false);
    expect(existsSync(recent)).toBe(true);
  });

  it('beyond maxEntries or maxBytes removes the least recently used first, but none used within minAgeMs', () => {
    const a = entry('a', 2 * HOUR, 100);
    const b = entry('b', 3 * HOUR, 100);
    const c = entry('c', 4 * HOUR, 100);
    const fresh = entry('fresh', 60_000, 100);
    pruneCodeCache(join(dir, 'cache'), { maxEntries: 2 });
    expect([existsSync(fresh), existsSync(a), existsSync(b), existsSync(c)]).toEqual([true, true, false, false]);
    pruneCodeCache(join(dir, 'cache'), { maxBytes: 150 });
    expect([existsSync(fresh), existsSync(a)]).toEqual([true, false]);
  });

  it('removes a linked entry without touching the package it links to', () => {
    const pkg = join(dir, 'project', 'node_modules', 'pkg');
    mkdirSync(pkg, { recursive: true });
    writeFileSync(join(pkg, 'index.js'), '');
    const path = entry('linked', 30 * 24 * HOUR);
    mkdirSync(join(path, 'node_modules'));
    const link = join(path, 'node_modules', 'pkg');
    symlinkSync(pkg, link, 'dir');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    const when = new Date(Date.now() - 30 * 24 * HOUR);
    utimesSync(path, when, when);
    pruneCodeCache(join(dir, 'cache'));
    expect(existsSync(path)).toBe(false);
    expect(existsSync(join(pkg, 'index.js'))).toBe(true);
  });

  it('removes temporary directories left by a crash once they are old, and survives a missing cache dir', () => {
    const tmp = entry('h3.123.abc.tmp', 2 * HOUR);
    pruneCodeCache(join(dir, 'cache'));
    expect(existsSync(tmp)).toBe(false);
    expect(pruneCodeCache(join(dir, 'nothing-here'))).toEqual({ removed: 0 });
  });
});
