// The agent bundle is CommonJS (dist/bundle/agent.cjs): an .mjs entry makes Node 20 set up its ESM
// loader first, ~4 ms of every agent's start (issue 16). agent.mjs stays as an entry that loads it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const bundleDir = fileURLToPath(new URL('../../dist/bundle/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'clustrix-entry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs an entry without configuration: it loads the agent, then exits 2 at the config check. */
function run(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, args, { env: { PATH: process.env.PATH }, encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('the agent entry files', () => {
  it('agent.cjs starts without the ES module loader (no module graph, no translators)', () => {
    const preload = join(dir, 'modules.cjs');
    writeFileSync(preload, "process.on('exit', () => process._rawDebug('MODULES ' + JSON.stringify(process.moduleLoadList)));\n");
    const r = run(['--require', preload, join(bundleDir, 'agent.cjs')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/CLUSTRIX_URL/);
    const modules = JSON.parse(/^MODULES (.*)$/m.exec(r.stderr)?.[1] ?? '[]') as string[];
    expect(modules).toContain('NativeModule net'); // the list is the agent's: it got as far as its imports
    expect(modules.filter((m) => /esm\/(translators|module_job)$/.test(m))).toEqual([]);
  });

  it('agent.mjs runs the agent.cjs beside it', () => {
    const r = run([join(bundleDir, 'agent.mjs')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/CLUSTRIX_URL must be a ws:\/\/ or wss:\/\/ address/);
  });
});
