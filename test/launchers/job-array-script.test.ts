/**
 * Job-array scripts: the directive each scheduler takes, element log files, and (run by bash with
 * the environment each scheduler gives an element) the agent id and job id every element gets.
 */
import { spawnSync } from 'node:child_process';
import { chmod, copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { renderJobScript, type JobScriptSpec, type SchedulerDialect } from '../../coordinator/backends/launchers/batch/job-script.js';
import { compileResources, type SchedulerKind } from '../../coordinator/backends/launchers/batch/resources.js';
import { awkwardTempDir, FAKE_AGENT, fakeAgentReport } from './helpers.js';

const IDS = ["pool-0 'a'", 'pool-1 $HOME', 'pool-2 "c"'];
let dir: string;
let agentPath: string;

beforeAll(async () => {
  dir = await awkwardTempDir('array');
  agentPath = path.join(dir, 'agent.mjs');
  await copyFile(FAKE_AGENT, agentPath);
  await writeFile(path.join(dir, 'token'), 'array-token\n', { mode: 0o600 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function dialect(kind: SchedulerKind, style: 'torque' | 'pbspro' = 'torque'): SchedulerDialect {
  if (kind === 'slurm') return { kind };
  if (kind === 'pbs') return { kind, resourceStyle: style };
  return { kind, parallelEnvironment: 'smp', memoryResource: 'h_vmem', gpuResource: 'gpu' };
}

function render(kind: SchedulerKind, overrides: Partial<JobScriptSpec> = {}, nodes = 1, style: 'torque' | 'pbspro' = 'torque'): string {
  const agentIds = overrides.agentIds ?? IDS;
  return renderJobScript({
    scheduler: dialect(kind, style),
    resources: compileResources({ time: '00:10:00', nodes }, kind),
    jobName: 'clustrix-arr',
    stdoutPath: path.join(dir, `${kind}-job.out`),
    stderrPath: path.join(dir, `${kind}-job.err`),
    workDir: dir,
    setup: [],
    node: process.execPath,
    agentPath,
    tokenFile: path.join(dir, 'token'),
    url: 'ws://10.202.0.1:1',
    agentIds,
    array: { count: agentIds.length / nodes },
    ...overrides,
  });
}

function run(script: string, env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('bash', ['-c', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', FAKE_AGENT_LIFETIME_MS: '0', ...env },
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const directive = (script: string, prefix: string): string[] => script.split('\n').filter((l) => l.startsWith(`${prefix} `));

describe('job array scripts', () => {
  test('the array directive of each scheduler: SLURM 0-based, SGE 1-based (it refuses 0), PBS -t (Torque) or -J (PBS Pro)', () => {
    expect(directive(render('slurm'), '#SBATCH')).toContain('#SBATCH --array=0-2');
    expect(directive(render('sge'), '#$')).toContain('#$ -t 1-3');
    expect(directive(render('pbs'), '#PBS')).toContain('#PBS -t 0-2');
    expect(directive(render('pbs', {}, 1, 'pbspro'), '#PBS')).toContain('#PBS -J 0-2');
    // a plain job has none
    const plain = render('slurm', { agentIds: ['x'], array: undefined });
    expect(plain).not.toContain('--array');
    expect(plain).not.toContain('clustrix_agent_ids');
  });

  test('SLURM: each element logs to <base>.<task>.out through %a, with a literal % kept escaped', () => {
    const script = render('slurm', { stdoutPath: '/jobs/50%/a.out', stderrPath: '/jobs/50%/a.err' });
    expect(script).toContain("#SBATCH --output=/jobs/50%%/a.%a.out\n");
    expect(script).toContain("#SBATCH --error=/jobs/50%%/a.%a.err\n");
    expect(() => render('slurm', { stdoutPath: '/jobs/a\\b.out' })).toThrow(
      new TypeError('the log paths of a SLURM job array cannot hold a backslash, got "/jobs/a\\\\b.out"'),
    );
  });

  test('every agent id is in the script, one quoted word per line; the token is not', () => {
    const script = render('slurm');
    expect(script).toContain("clustrix_agent_ids=(\n  'pool-0 '\\''a'\\'''\n  'pool-1 $HOME'\n  'pool-2 \"c\"'\n)\n");
    expect(script).not.toContain('array-token');
    const check = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
    expect(check.status).toBe(0);
  });

  test('a count that does not match the ids is refused', () => {
    expect(() => render('slurm', { array: { count: 2 } })).toThrow(new TypeError('agentIds must hold one id per node of each of 2 elements (2), got 3'));
    expect(() => render('slurm', { array: { count: 0 }, agentIds: [] })).toThrow(new TypeError('array.count must be a positive integer, got 0'));
  });

  test.each<[SchedulerKind, Record<string, string>, string, string]>([
    ['slurm', { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_JOB_ID: '500', SLURM_JOB_ID: '502' }, IDS[1]!, '500_1'],
    ['sge', { SGE_TASK_ID: '3', JOB_ID: '77' }, IDS[2]!, '77.3'],
    ['pbs', { PBS_ARRAYID: '0', PBS_JOBID: '12[0].server' }, IDS[0]!, '12[0].server'], // Torque
    ['pbs', { PBS_ARRAY_INDEX: '2', PBS_JOBID: '13[2].server' }, IDS[2]!, '13[2].server'], // PBS Pro
    ['pbs', { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_JOB_ID: '600', SLURM_JOB_ID: '601' }, IDS[1]!, '600'], // slurm-torque wrappers
  ])('%s element %j starts the agent of its task, with the element job id', async (kind, env, agentId, jobId) => {
    const { status, stdout, stderr } = run(render(kind), env);
    expect(status).toBe(0);
    // PBS: the element sends its output to <base>.<task>.out itself
    const task = env.PBS_ARRAYID ?? env.PBS_ARRAY_INDEX ?? env.SLURM_ARRAY_TASK_ID;
    const out = kind === 'pbs' ? await readFile(path.join(dir, `pbs-job.${task}.out`), 'utf8') : stdout;
    if (kind === 'pbs') expect([stdout, stderr]).toEqual(['', '']);
    expect(fakeAgentReport(out)).toMatchObject({ agentId, jobId, url: 'ws://10.202.0.1:1', tokenLength: 'array-token'.length });
    if (kind === 'pbs') await rm(path.join(dir, `pbs-job.${task}.out`), { force: true });
  });

  test('a script run outside an array stops at once, naming the variable', () => {
    const { status, stdout, stderr } = run(render('slurm'), {});
    expect(status).not.toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toContain('SLURM_ARRAY_TASK_ID: is not set: not a job array element');
  });

  test('an array of 2-node jobs: each srun rank of each element takes its own id', async () => {
    const bin = path.join(dir, 'bin');
    await mkdir(bin, { recursive: true });
    // a stand-in for srun: the command once per task, with SLURM_PROCID, as srun does
    await writeFile(
      path.join(bin, 'srun'),
      '#!/bin/bash\nn=1\nwhile [ $# -gt 0 ]; do case $1 in --ntasks=*) n=${1#--ntasks=}; shift;; --*) shift;; *) break;; esac; done\n' +
        'for ((i = 0; i < n; i++)); do SLURM_PROCID=$i "$@" & done\nwait\n',
    );
    await chmod(path.join(bin, 'srun'), 0o755);
    const ids = ['e0-r0', 'e0-r1', "e1-r0 'x'", 'e1-r1 $y'];
    const script = render('slurm', { agentIds: ids }, 2);
    expect(script).toContain('#SBATCH --array=0-1\n');
    expect(script).toContain('#SBATCH --nodes=2\n');
    const seen = (task: string): string[] =>
      run(script, { PATH: `${bin}:${process.env.PATH ?? ''}`, SLURM_ARRAY_TASK_ID: task, SLURM_ARRAY_JOB_ID: '9' })
        .stdout.split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => (JSON.parse(l) as { agentId: string }).agentId)
        .sort();
    expect(seen('0')).toEqual(['e0-r0', 'e0-r1']);
    expect(seen('1')).toEqual(["e1-r0 'x'", 'e1-r1 $y']);
  });
});
