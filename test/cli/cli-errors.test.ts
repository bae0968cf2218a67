// Issue 12, item 8: the CLI's failures read as a command line user acts on them: `run` without a
// service exits 3 with one line and a hint (it used to run the script into a ConfigError stack,
// exit 1); `check` suggests `clustrix init` only when there is no config file, and points at a
// typo in one that exists; hints name `--config`, not the API's `configFile`.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, FIXTURES, isolatedEnv } from '../service/cli-helpers.js';

describe('clustrix run without a service', () => {
  const env = isolatedEnv();

  it('exits 3 with one line and a hint, without running the script', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clustrix-run-'));
    const file = join(dir, 'ran.mjs');
    writeFileSync(file, "import { writeFileSync } from 'node:fs'; writeFileSync(new URL('./marker', import.meta.url), 'ran');\n");
    const r = await cli(['run', file], env);
    expect(r.code).toBe(3);
    expect(existsSync(join(dir, 'marker'))).toBe(false);
    expect(r.stderr).toBe('clustrix: no service is running for the script to attach to\n  hint: start one with `clustrix up <profile>` (or set CLUSTRIX_ADDRESS), then run it again\n');
    const named = await cli(['run', '-p', 'hpc', join(FIXTURES, 'square-map.ts')], env);
    expect(named.code).toBe(3);
    expect(named.stderr).toContain("no service is running for 'hpc'");
    expect(named.stderr).toContain('`clustrix up hpc`');
    expect(named.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('clustrix check on a profile that does not load', () => {
  it('suggests clustrix init and --config when there is no config file', async () => {
    const env = isolatedEnv();
    const cwd = mkdtempSync(join(tmpdir(), 'clustrix-nocfg-'));
    const r = await cli(['check', 'hpc'], { ...env, HOME: cwd }, 60_000, cwd);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ profile: profile 'hpc' asked for, but there is no config file/);
    expect(r.stdout).toContain('fix: `clustrix init` writes a commented config');
    expect(r.stdout).toContain('--config <file>');
    expect(r.stdout).not.toContain('configFile');
  });

  it('points at the typo in an existing file, not at clustrix init', async () => {
    const env = isolatedEnv();
    const cwd = mkdtempSync(join(tmpdir(), 'clustrix-typo-'));
    const file = join(cwd, 'clustrix.config.yaml');
    writeFileSync(file, 'profiles:\n  hpc:\n    backnd: slurm\n');
    const r = await cli(['check', 'hpc'], { ...env, HOME: cwd }, 60_000, cwd);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`✗ profile: ${file}:3:5: profiles.hpc.backnd: unknown key`);
    expect(r.stdout).toContain("did you mean 'backend'?");
    expect(r.stdout).not.toContain('clustrix init');
    const missing = await cli(['check', 'hpx', '--config', file], env, 60_000, cwd);
    expect(missing.stdout).not.toContain('clustrix init');
  });

  it('up names --config in its hint, not configFile', async () => {
    const env = isolatedEnv();
    const cwd = mkdtempSync(join(tmpdir(), 'clustrix-up-'));
    const r = await cli(['up', 'hpc'], { ...env, HOME: cwd }, 60_000, cwd);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('pass --config <file>');
    expect(r.stderr).not.toContain('configFile');
  });
});
