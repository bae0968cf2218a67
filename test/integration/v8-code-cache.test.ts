// The agent bundle compiles its core through V8's code cache (agent/boot.ts): the first run
// writes a private cache file beside the bundle, later runs read it, and a broken cache is
// replaced, never a reason not to start.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';

const dir = mkdtempSync(join(tmpdir(), 'clustrix-v8-'));
const bundle = join(dir, 'agent.cjs');
copyFileSync(fileURLToPath(new URL('../../dist/bundle/agent.cjs', import.meta.url)), bundle);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the bundle without configuration: it loads its core, then exits 2 at the config check. */
function runBundle(): { status: number | null; stderr: string } {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
  const r = spawnSync(process.execPath, [bundle], { env, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr };
}

const cacheFiles = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.v8'));

describe('the agent bundle and V8 code cache', () => {
  it('writes a 0600 cache beside the bundle on its first run', () => {
    expect(cacheFiles()).toEqual([]);
    const r = runBundle();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/CLUSTRIX_URL/);
    const [file] = cacheFiles();
    expect(file).toMatch(new RegExp(`^\\.agent-[0-9a-f]{16}-${process.version.replace(/\./g, '\\.')}-${process.arch}\\.v8$`));
    expect(statSync(join(dir, file!)).mode & 0o777).toBe(0o600);
  });

  it('reads it on later runs and leaves it as it is', () => {
    const file = join(dir, cacheFiles()[0]!);
    const before = readFileSync(file);
    const mtime = statSync(file).mtimeMs;
    expect(runBundle().status).toBe(2);
    expect(statSync(file).mtimeMs).toBe(mtime);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('starts normally over a corrupt cache and writes a good one in its place', () => {
    const file = join(dir, cacheFiles()[0]!);
    writeFileSync(file, Buffer.from('not a code cache'), { mode: 0o600 });
    const r = runBundle();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/CLUSTRIX_URL/);
    expect(statSync(file).size).toBeGreaterThan(10_000);
  });
});
