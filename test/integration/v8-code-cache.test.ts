// The agent bundle compiles its core through V8's code cache (agent/boot.ts): the first run that
// reaches a coordinator writes a private cache file beside the bundle, later runs read it, and a
// broken cache is replaced, never a reason not to start. A run that reaches none writes nothing:
// it compiled too little, and a cache is never rewritten while V8 accepts it.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { CloseCode } from '../../protocol/version.js';

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

/** Runs the bundle against a stand-in coordinator that ends the session (shutdown) at its hello. */
async function runConnected(): Promise<number | null> {
  const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await once(server, 'listening');
  server.on('connection', (ws) => ws.once('message', () => ws.close(CloseCode.shutdown, 'test over')));
  try {
    const env = { PATH: process.env.PATH, CLUSTRIX_URL: `ws://127.0.0.1:${(server.address() as AddressInfo).port}`, CLUSTRIX_TOKEN: 't', CLUSTRIX_SLOTS: '1' };
    const child = spawn(process.execPath, [bundle], { env, stdio: 'ignore' });
    const [code] = (await once(child, 'exit')) as [number | null];
    return code;
  } finally {
    server.close();
  }
}

const cacheFiles = (): string[] => readdirSync(dir).filter((f) => f.endsWith('.v8'));

describe('the agent bundle and V8 code cache', () => {
  it('writes none for a run that stops at the config check', () => {
    const r = runBundle();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/CLUSTRIX_URL/);
    expect(cacheFiles()).toEqual([]);
  });

  it('writes a 0600 cache beside the bundle on its first run that reaches a coordinator', async () => {
    expect(await runConnected()).toBe(0);
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

  it('starts normally over a corrupt cache and writes a good one in its place', async () => {
    const file = join(dir, cacheFiles()[0]!);
    writeFileSync(file, Buffer.from('not a code cache'), { mode: 0o600 });
    const r = runBundle();
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/CLUSTRIX_URL/);
    expect(await runConnected()).toBe(0);
    expect(statSync(file).size).toBeGreaterThan(10_000);
  });
});
