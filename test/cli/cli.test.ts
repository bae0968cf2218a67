// The clustrix command line as a user runs it: help, exit codes, init, run, jobs and logs.
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, FIXTURES, isolatedEnv, node } from '../service/cli-helpers.js';
import { waitUntil } from '../helpers/processes.js';

const COMMANDS = ['init', 'check', 'up', 'down', 'status', 'jobs', 'logs', 'actors', 'run', 'bench'];

describe('help and exit codes', () => {
  const env = isolatedEnv();

  it('lists every command and the exit codes', async () => {
    const r = await cli(['--help'], env);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(`  ${c} `);
    expect(r.stdout).toContain('Exit codes: 0 ok, 1 failed, 2 wrong command line, 3 no service running');
  });

  it.each(COMMANDS)('%s --help prints its usage', async (c) => {
    const r = await cli([c, '--help'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^Usage: clustrix ${c}`));
  });

  it('exits 2 on an unknown command or option', async () => {
    expect((await cli(['frobnicate'], env)).code).toBe(2);
    const r = await cli(['up', '--frob'], env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown option --frob');
  });

  it('exits 3 when no service runs', async () => {
    expect((await cli(['status'], env)).code).toBe(3);
    expect((await cli(['down', 'local'], env)).code).toBe(3);
    expect((await cli(['jobs', '--json'], env)).stdout.trim()).toBe('[]');
  });

  it('up fails with exit 1 and the reason for an unknown profile', async () => {
    const r = await cli(['up', 'nosuch'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("profile 'nosuch'");
  });
});

describe('init', () => {
  it('writes the commented config without asking, and refuses to overwrite it', async () => {
    const env = isolatedEnv();
    const r = await cli(['init', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const { path } = JSON.parse(r.stdout) as { path: string };
    expect(path).toBe(join(env.XDG_CONFIG_HOME!, 'clustrix', 'config.yaml'));
    const text = readFileSync(path, 'utf8');
    for (const backend of ['local', 'ssh', 'slurm', 'pbs', 'sge', 'kubernetes']) expect(text).toContain(`backend: ${backend}`);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = await cli(['init'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('--force');
  });
});

describe('run, jobs and logs against a running service', () => {
  const env = isolatedEnv();
  beforeAll(async () => {
    const r = await cli(['up', 'local', '-n', '2'], env);
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => {
    await cli(['down', 'local'], env);
  });

  it('run compiles a TypeScript script and attaches it to the pool', async () => {
    const r = await cli(['run', '-p', 'local', join(FIXTURES, 'square-map.ts'), '100'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('map over 100 items on 2 agents: sum 328350');
  });

  it('run passes the script exit code through', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clustrix-run-'));
    const file = join(dir, 'exit.mjs');
    await import('node:fs').then((fs) => fs.writeFileSync(file, 'process.exit(7);\n'));
    expect((await cli(['run', file], env)).code).toBe(7);
  });

  it('jobs lists the agents behind the service', async () => {
    const r = await cli(['jobs', '--json'], env);
    const rows = JSON.parse(r.stdout) as { jobId: string; agent: string; pool: string }[];
    expect(rows).toHaveLength(2);
    expect(rows[0]!.jobId).toMatch(/^pid-/);
    expect(rows.map((row) => row.pool)).toEqual(['default', 'default']);
  });

  it("logs streams an agent's output, whichever client ran the task", async () => {
    const rows = JSON.parse((await cli(['jobs', '--json'], env)).stdout) as { agent: string }[];
    const follower = node(join(FIXTURES, '../../../dist/cli/main.js'), ['logs', rows[0]!.agent], env);
    await waitUntil(async () => follower.output().includes('following'), { timeoutMs: 20_000, what: 'logs to attach' });
    const printer = node(join(FIXTURES, 'client-print.mjs'), [], env);
    expect(await printer.exit, printer.output()).toBe(0);
    await waitUntil(async () => follower.output().includes('marker-from-task'), { timeoutMs: 10_000, what: 'the line to reach logs' });
    expect(follower.output()).toMatch(new RegExp(`\\[${rows[0]!.agent} \\S+\\] marker-from-task`));
    follower.child.kill('SIGINT');
    await follower.exit;
  });
});
