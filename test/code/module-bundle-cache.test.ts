import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { bundleModule } from '../../coordinator/code/index.js';

let dir: string;
const entry = (): string => join(dir, 'entry.ts');
const dep = (): string => join(dir, 'dep.ts');

/** Writes a file and moves its mtime clearly away from "now", so the build never looks racy. */
async function writeAged(path: string, text: string, ageSeconds: number): Promise<void> {
  await writeFile(path, text);
  const when = new Date(Date.now() - ageSeconds * 1000);
  await utimes(path, when, when);
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clustrix-bundle-cache-'));
  await writeAged(entry(), "import { n } from './dep.js';\nexport const value = (): number => n;\n", 60);
  await writeAged(dep(), 'export const n = 1;\n', 60);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bundleModule cache', () => {
  it('returns the previous result, without rebuilding, while no input changed', async () => {
    const first = await bundleModule(entry());
    expect(await bundleModule(entry())).toBe(first);
  });

  it('rebuilds when an imported file changes', async () => {
    const before = await bundleModule(entry());
    await writeAged(dep(), 'export const n = 2;\n', 30);
    const after = await bundleModule(entry());
    expect(after).not.toBe(before);
    expect(after.hash).not.toBe(before.hash);
    expect(after.source).toContain('n = 2');
    expect(await bundleModule(entry())).toBe(after);
  });

  it('keys the cache on options too', async () => {
    const plain = await bundleModule(entry());
    const withExternal = await bundleModule(entry(), { external: ['left-pad'] });
    expect(withExternal).not.toBe(plain);
    expect(await bundleModule(entry(), { external: ['left-pad'] })).toBe(withExternal);
  });

  it('shares one build between concurrent calls', async () => {
    await writeAged(dep(), 'export const n = 3;\n', 20);
    const [a, b] = await Promise.all([bundleModule(entry()), bundleModule(entry())]);
    expect(a).toBe(b);
    expect(a.source).toContain('n = 3');
  });

  it('does not cache a build whose inputs were saved while it ran', async () => {
    // Pin the build's clock so the edit lands between its start and its end.
    const t0 = Date.now() + 60_000;
    await writeFile(dep(), 'export const n = 4;\n');
    await utimes(dep(), new Date(t0 + 1000), new Date(t0 + 1000));
    const clock = vi.spyOn(Date, 'now').mockReturnValueOnce(t0).mockReturnValueOnce(t0 + 2000);
    try {
      const racy = await bundleModule(entry());
      expect(racy.source).toContain('n = 4');
      expect(clock).toHaveBeenCalledTimes(2);
      clock.mockRestore();
      // It may have read the file before the edit: the next call builds again (then caches).
      const again = await bundleModule(entry());
      expect(again).not.toBe(racy);
      expect(await bundleModule(entry())).toBe(again);
    } finally {
      clock.mockRestore();
    }
  });

  it('caches despite an mtime in the future (clock skew, e.g. NFS), which is not an edit', async () => {
    const future = new Date(Date.now() + 3_600_000);
    await writeFile(dep(), 'export const n = 5;\n');
    await utimes(dep(), future, future);
    const first = await bundleModule(entry());
    expect(first.source).toContain('n = 5');
    expect(await bundleModule(entry())).toBe(first);
  });
});
