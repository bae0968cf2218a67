// Issue 12, item 8, against a running service: `clustrix actors` lists the named actors that
// outlive their clients and `--kill` ends one; `status --json` lists only real clients, not the
// CLI's own connections; `run` of a script with a syntax error prints esbuild's message, no stack.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, FIXTURES, isolatedEnv, node } from '../service/cli-helpers.js';

interface ActorRow {
  id: string;
  name: string | null;
  className: string;
  state: string;
  callsServed: number;
}

describe('actors, status and run against a running service', () => {
  const env = isolatedEnv();
  beforeAll(async () => {
    const r = await cli(['up', 'local', '-n', '1'], env);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => {
    await cli(['down', 'local'], env);
  });

  it('actors lists a named actor whose client is gone, and --kill ends it', async () => {
    const maker = node(join(FIXTURES, 'named-actor.mjs'), ['keeper'], env);
    expect(await maker.exit, maker.output()).toBe(0);
    const listed = await cli(['actors', '--json'], env);
    expect(listed.code, listed.stderr).toBe(0);
    const rows = JSON.parse(listed.stdout) as ActorRow[];
    const keeper = rows.find((a) => a.name === 'keeper');
    expect(keeper).toMatchObject({ className: 'Keeper', state: 'alive', callsServed: 1 });
    const table = await cli(['actors'], env);
    expect(table.stdout).toMatch(/^ID\s+NAME\s+CLASS\s+AGENT\s+STATE\s+CALLS\s+RESTARTS/);
    expect(table.stdout).toMatch(/keeper\s+Keeper\s+\S+\s+alive\s+1\s+0/);

    const killed = await cli(['actors', '--kill', 'keeper'], env);
    expect(killed.code, killed.stderr).toBe(0);
    expect(killed.stdout).toContain(`killed actor 'keeper' (${keeper!.id})`);
    const after = JSON.parse((await cli(['actors', '--json'], env)).stdout) as ActorRow[];
    expect(after.find((a) => a.id === keeper!.id && a.state === 'alive')).toBeUndefined();
    const again = await cli(['actors', '--kill', 'keeper'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("no live actor is named 'keeper'");
  });

  it('status --json lists no connection of the CLI itself', async () => {
    for (let i = 0; i < 3; i++) {
      const r = await cli(['status', '--json'], env);
      expect(r.code, r.stderr).toBe(0);
      const [service] = JSON.parse(r.stdout) as { clients: { name: string }[] }[];
      expect(service!.clients.map((c) => c.name).filter((n) => n.startsWith('clustrix '))).toEqual([]);
    }
  });

  it('run prints esbuild\'s message for a syntax error, without a stack, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clustrix-syntax-'));
    const file = join(dir, 'broken.ts');
    writeFileSync(file, 'const x: number = (1 + ;\n');
    const r = await cli(['run', file], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\[ERROR\] Unexpected ";"[\s\S]*broken\.ts:1:23:/);
    expect(r.stderr).toContain(`clustrix: ${file} did not compile (esbuild's message above)`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('clustrix actors without a service', () => {
  it('exits 3', async () => {
    const r = await cli(['actors'], isolatedEnv());
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('no service is running');
  });
});
