/**
 * Runs rendered scripts with bash (directives are comments to bash) and the fake agent, to check
 * that every quoted value reaches the agent's environment byte for byte.
 */
import { spawnSync } from 'node:child_process';
import { copyFile, chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { renderJobScript, type JobScriptSpec } from '../../coordinator/backends/launchers/batch/job-script.js';
import { compileResources, type SchedulerKind } from '../../coordinator/backends/launchers/batch/resources.js';
import { awkwardTempDir, FAKE_AGENT, fakeAgentReport } from './helpers.js';

const TOKEN = 'tok-run-0123456789';
let dir: string;
let agentPath: string;
let tokenFile: string;

beforeAll(async () => {
  dir = await awkwardTempDir('run');
  agentPath = path.join(dir, `agent "x" 'y' $z.mjs`);
  tokenFile = path.join(dir, 'token');
  await copyFile(FAKE_AGENT, agentPath);
  await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function render(kind: SchedulerKind | 'ssh', overrides: Partial<JobScriptSpec> = {}, nodes = 1): string {
  return renderJobScript({
    scheduler:
      kind === 'slurm'
        ? { kind }
        : kind === 'pbs'
          ? { kind, resourceStyle: 'torque' }
          : kind === 'sge'
            ? { kind, parallelEnvironment: 'smp', memoryResource: 'h_vmem', gpuResource: 'gpu' }
            : { kind, exitFile: path.join(dir, 'ssh.exit'), jobIdPrefix: "host 'h':" },
    resources: compileResources({ time: '00:10:00', nodes }, kind === 'ssh' ? 'slurm' : kind),
    jobName: 'clustrix-run',
    stdoutPath: path.join(dir, 'out'),
    stderrPath: path.join(dir, 'err'),
    workDir: dir,
    setup: ['export CLUSTRIX_TEST_SETUP="$((6 * 7))"'],
    node: process.execPath,
    agentPath,
    tokenFile,
    url: "ws://127.0.0.1:1/?q='a b'&d=$HOME",
    certFingerprint: 'AA:BB "cc"',
    agentIds: ["agent 'one' \"two\" $3 `id` \\ end"],
    ...overrides,
  });
}

function run(script: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('bash', ['-c', script], {
    encoding: 'utf8',
    // stdin not a pipe: node's pipes are sockets, and bash on a socket stdin believes sshd started
    // it and sources ~/.bashrc, which can hang here
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', FAKE_AGENT_LIFETIME_MS: '0', ...env },
    timeout: 30_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('a rendered script, run by bash', () => {
  test.each<[SchedulerKind, Record<string, string>, string]>([
    ['slurm', { SLURM_JOB_ID: '4242' }, '4242'],
    ['pbs', { PBS_JOBID: '17.server' }, '17.server'],
    ['pbs', { SLURM_JOB_ID: '99' }, '99'], // the slurm-torque wrappers set only SLURM_JOB_ID
    ['sge', { JOB_ID: '313' }, '313'],
  ])('%s: every value reaches the agent intact (%j)', (kind, env, jobId) => {
    const before = Date.now();
    // an inherited token or stdin switch from the submitting environment must not reach the agent
    const { status, stdout, stderr } = run(render(kind), { ...env, CLUSTRIX_TOKEN: 'inherited', CLUSTRIX_EXIT_WITH_STDIN: '1' });
    expect(stderr).toContain('fake agent: stderr works');
    expect(status).toBe(0);
    const report = fakeAgentReport(stdout);
    expect(report).toMatchObject({
      agentId: "agent 'one' \"two\" $3 `id` \\ end",
      jobId,
      url: "ws://127.0.0.1:1/?q='a b'&d=$HOME",
      tokenFile,
      tokenLength: TOKEN.length,
      tokenMode: '600',
      certFingerprint: 'AA:BB "cc"',
      setupMarker: '42',
      cwd: dir,
      inherited: [],
    });
    const end = Number(report?.walltimeEnd);
    expect(end).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 600_000);
    expect(end).toBeLessThanOrEqual(Date.now() + 600_000);
  });

  test('ssh: the job id is host:pid and the exit status lands in the exit file', async () => {
    const { status, stdout } = run(render('ssh'), { FAKE_AGENT_EXIT: '7' });
    expect(status).toBe(7);
    expect(String(fakeAgentReport(stdout)?.jobId)).toMatch(/^host 'h':\d+$/);
    expect((await readFile(path.join(dir, 'ssh.exit'), 'utf8')).trim()).toBe('7');
  });

  test('no node: exit 3 and one clear line on stderr', () => {
    const { status, stdout, stderr } = run(render('slurm', { node: '/nonexistent dir/node' }));
    expect(status).toBe(3);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      /^clustrix: no usable node on \S+: set `node` to its path, or add `module load nodejs` to setup \(\/nonexistent dir\/node: not found\)\n$/,
    );
  });

  test('a node older than 20: exit 3, saying which version it found', async () => {
    const old = path.join(dir, 'old node');
    await writeFile(old, '#!/bin/sh\nprintf 18\n', { mode: 0o755 });
    const { status, stderr } = run(render('sge', { node: old }));
    expect(status).toBe(3);
    expect(stderr).toContain(`(${old} is Node 18; clustrix needs 20 or newer)`);
  });

  test('several nodes: each srun task picks its own agent id by rank', async () => {
    // a stand-in for srun that starts the command once per task with SLURM_PROCID set, as srun does
    const bin = path.join(dir, 'bin');
    await mkdir(bin, { recursive: true });
    await writeFile(
      path.join(bin, 'srun'),
      '#!/bin/bash\nn=1\nwhile [ $# -gt 0 ]; do case $1 in --ntasks=*) n=${1#--ntasks=}; shift;; --*) shift;; *) break;; esac; done\n' +
        'for ((i = 0; i < n; i++)); do SLURM_PROCID=$i "$@" & done\nwait\n',
    );
    await chmod(path.join(bin, 'srun'), 0o755);
    const ids = ['rank-0', "rank '1' $x", 'rank "2"'];
    const { status, stdout } = run(render('slurm', { agentIds: ids }, 3), { PATH: `${bin}:${process.env.PATH ?? ''}`, SLURM_JOB_ID: '5' });
    expect(status).toBe(0);
    const seen = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => (JSON.parse(l) as { agentId: string }).agentId);
    expect(seen.sort()).toEqual([...ids].sort());
  });
});
