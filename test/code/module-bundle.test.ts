import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { EOL } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClustrixError, ConfigError } from '../../coordinator/errors/errors.js';
import { ModuleBundleError, bundleModule } from '../../coordinator/code/index.js';

const fixtureUrl = (name: string): URL => new URL(`../fixtures/code/${name}`, import.meta.url);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clustrix-bundle-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What an agent does with a bundle: write it somewhere and import it. */
async function load<T>(source: string, name: string): Promise<T> {
  const file = join(dir, `${name}.mjs`);
  await writeFile(file, source);
  return (await import(/* @vite-ignore */ pathToFileURL(file).href)) as T;
}

interface Tasks {
  fib(n: number): number;
  sumOfSquares(xs: number[]): number;
  joined(...parts: string[]): string;
  lineEnding(): string;
  Account: new (balance: number) => { deposit(amount: number): number };
  default(name: string): string;
}

describe('bundleModule', () => {
  it('bundles a TS module with a local import, a CJS file and node:path into importable ESM', async () => {
    const bundled = await bundleModule(fixtureUrl('tasks.ts'));
    expect(bundled.path).toBe(fixtureUrl('tasks.ts').pathname);
    expect(bundled.source).not.toMatch(/from ["']\.\/helpers/); // the local import is inlined
    expect(bundled.source).toMatch(/from ["']node:path["']/); // builtins stay imports

    const tasks = await load<Tasks>(bundled.source, 'tasks');
    expect(tasks.fib(10)).toBe(55);
    expect(tasks.sumOfSquares([1, 2, 3])).toBe(14);
    expect(tasks.joined('a', 'b')).toBe(join('a', 'b'));
    expect(tasks.lineEnding()).toBe(EOL); // the CJS file's require('node:os') went through the banner's require
    expect(new tasks.Account(100).deposit(5)).toBe(105);
    expect(tasks.default('ada')).toBe('hello, ada');
  });

  it('lists the exports', async () => {
    const bundled = await bundleModule(fixtureUrl('tasks.ts'));
    expect([...bundled.exports].sort()).toEqual(['Account', 'default', 'fib', 'joined', 'lineEnding', 'sumOfSquares']);
  });

  it('hashes the output, and the hash is stable across calls and entry spellings', async () => {
    const first = await bundleModule(fixtureUrl('tasks.ts'));
    expect(first.hash).toBe(createHash('sha256').update(first.source).digest('hex'));
    const relativePath = relative(process.cwd(), fixtureUrl('tasks.ts').pathname);
    expect((await bundleModule(relativePath)).hash).toBe(first.hash);
    expect((await bundleModule(fixtureUrl('tasks.ts').href)).hash).toBe(first.hash);
  });

  it('bundles packages from node_modules unless they are external', async () => {
    const inlined = await bundleModule(fixtureUrl('uses-package.ts'));
    const external = await bundleModule(fixtureUrl('uses-package.ts'), { external: ['acorn'] });
    expect(inlined.source).not.toMatch(/from ["']acorn["']/);
    expect(external.source).toMatch(/from ["']acorn["']/);
    expect(external.hash).not.toBe(inlined.hash);
    const loaded = await load<{ acornVersion(): string }>(inlined.source, 'uses-package');
    expect(loaded.acornVersion()).toMatch(/^8\./);
  });
});

describe('bundleModule errors', () => {
  it('a syntax error in an imported file is MODULE_BUNDLE_FAILED naming file:line:column', async () => {
    const entry = fixtureUrl('broken-entry.mjs');
    const error = await bundleModule(entry).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ModuleBundleError);
    expect(error).toBeInstanceOf(ClustrixError);
    const bundleError = error as ModuleBundleError;
    expect(bundleError.code).toBe('MODULE_BUNDLE_FAILED');
    expect(bundleError.file).toBe(entry.pathname);
    const part = fixtureUrl('broken-part.mjs').pathname;
    expect(bundleError.messages[0]).toMatchObject({ file: part, line: 3 });
    expect(bundleError.message).toMatch(new RegExp(`^could not bundle ${entry.pathname}\\n  ${part}:3:\\d+: Unexpected`));
  });

  it('a missing entry is MODULE_BUNDLE_FAILED too', async () => {
    await expect(bundleModule(join(dir, 'nope.ts'))).rejects.toMatchObject({ code: 'MODULE_BUNDLE_FAILED' });
  });

  it('a URL that is not file: is a ConfigError', async () => {
    await expect(bundleModule(new URL('https://example.com/x.ts'))).rejects.toThrow(new ConfigError('module: expected a file: URL or a path, got https://example.com/x.ts'));
  });
});
