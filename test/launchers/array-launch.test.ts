/**
 * A launch of several jobs is one job array per maxArraySize jobs, each element reported as a job
 * of its own, against a scripted scheduler (ScriptedShell): which commands run, with what.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { JobRejectedError, PbsLauncher, SgeLauncher, SlurmLauncher } from '../../coordinator/backends/launchers/batch/index.js';
import { LocalShell } from '../../coordinator/backends/launchers/local-shell.js';
import { awkwardTempDir } from './helpers.js';
import { ScriptedShell } from './scripted-shell.js';

const CONNECT = { url: 'ws://10.202.0.1:7070', token: 'array-flow-token' };
const ensureAgent = (): Promise<string> => Promise.resolve('/shared/agent.mjs');
let home: string;
let files: LocalShell;

beforeAll(async () => {
  home = await awkwardTempDir('array-flow');
  files = new LocalShell({ env: { ...process.env, HOME: home } });
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

/** sbatch answers 101, 102, ...; `scontrol show config` says MaxArraySize = maxArraySize. */
function slurm(maxArraySize: number, rejectNth = 0): ScriptedShell {
  let n = 0;
  return new ScriptedShell(files, (command) => {
    if (/sbatch /.test(command)) {
      n++;
      return n === rejectNth ? { code: 1, stderr: 'sbatch: error: Batch job submission failed: Invalid job array specification\n' } : { stdout: `${100 + n}\n` };
    }
    if (/scontrol show config$/.test(command)) return { stdout: `ClusterName             = localcluster\nMaxArraySize            = ${maxArraySize}\n` };
    if (/(scancel|squeue|scontrol|sacct) /.test(command)) return { code: 0 };
    return undefined;
  });
}

const scripts = (shell: ScriptedShell): string[] => shell.writes.filter((w) => w.path.endsWith('.sh')).map((w) => w.data);

describe('SLURM', () => {
  test('5 agents with MaxArraySize 3: two sbatch calls (an array of 3, then of 2); scontrol asked once', async () => {
    const shell = slurm(3);
    const launcher = new SlurmLauncher({ shell, ensureAgent, clusterId: 'arr1' });
    const jobs = await launcher.launch({ connect: CONNECT, agentIds: ['a0', 'a1', 'a2', 'a3', 'a4'] });
    expect(jobs).toEqual([
      { jobId: '101_0', agentIds: ['a0'] },
      { jobId: '101_1', agentIds: ['a1'] },
      { jobId: '101_2', agentIds: ['a2'] },
      { jobId: '102_0', agentIds: ['a3'] },
      { jobId: '102_1', agentIds: ['a4'] },
    ]);
    expect(shell.scheduler('sbatch')).toHaveLength(2);
    const [first, second] = scripts(shell);
    expect(first).toContain('#SBATCH --array=0-2\n');
    expect(second).toContain('#SBATCH --array=0-1\n');
    await launcher.launch({ connect: CONNECT, agentIds: ['b0', 'b1'] });
    expect(shell.commands.filter((c) => c.command.endsWith('scontrol show config'))).toHaveLength(1);
    // one agent: a plain job, no array and no question about the array size
    expect(await launcher.launch({ connect: CONNECT, agentIds: ['c0'] })).toEqual([{ jobId: '104', agentIds: ['c0'] }]);
    expect(scripts(shell)[3]).not.toContain('--array');
  });

  test('MaxArraySize 0 (arrays disabled there) or maxArraySize 1: one job per agent', async () => {
    const off = slurm(0);
    expect((await new SlurmLauncher({ shell: off, ensureAgent }).launch({ connect: CONNECT, agentIds: ['x', 'y'] })).map((j) => j.jobId)).toEqual(['101', '102']);
    const one = slurm(1001);
    const launcher = new SlurmLauncher({ shell: one, ensureAgent, maxArraySize: 1 });
    expect((await launcher.launch({ connect: CONNECT, agentIds: ['x', 'y'] })).map((j) => j.jobId)).toEqual(['101', '102']);
    expect(one.commands.some((c) => c.command.includes('scontrol'))).toBe(false);
  });

  test('nodes: 2, 5 agents: an array of two 2-node jobs, and the odd agent in a 1-node job', async () => {
    const shell = slurm(1001);
    const launcher = new SlurmLauncher({ shell, ensureAgent, resources: { nodes: 2 } });
    const jobs = await launcher.launch({ connect: CONNECT, agentIds: ['n0', 'n1', 'n2', 'n3', 'n4'] });
    expect(jobs).toEqual([
      { jobId: '101_0', agentIds: ['n0', 'n1'] },
      { jobId: '101_1', agentIds: ['n2', 'n3'] },
      { jobId: '102', agentIds: ['n4'] },
    ]);
    const [array, single] = scripts(shell);
    expect(array).toContain('#SBATCH --nodes=2\n');
    expect(array).toContain('#SBATCH --array=0-1\n');
    expect(array).toContain('exec srun --nodes=2 --ntasks=2');
    expect(single).toContain('#SBATCH --nodes=1\n');
  });

  test('elements are cancelled, watched and read one by one', async () => {
    const shell = slurm(1001);
    shell.handler = ((base) => (command: string, stdin: string) => {
      if (/squeue /.test(command)) return { stdout: '101_0|RUNNING|None\n101_[1-2]|PENDING|Priority\n' };
      return base(command, stdin);
    })(shell.handler);
    const launcher = new SlurmLauncher({ shell, ensureAgent, clusterId: 'arr4' });
    await launcher.launch({ connect: CONNECT, agentIds: ['e0', 'e1', 'e2'] });
    expect(await launcher.status(['101_0', '101_2'])).toEqual([
      { jobId: '101_0', state: 'running' },
      { jobId: '101_2', state: 'pending', reason: 'Priority' },
    ]);
    expect(shell.scheduler('squeue')).toEqual(["squeue -h -r -j 101_0,101_2 -o '%i|%T|%r'"]);
    await launcher.cancel(['101_1']);
    expect(shell.scheduler('scancel')).toEqual(['scancel 101_1']);
    const base = `${home}/.clustrix/jobs/arr4/clustrix-e0`;
    await files.writeFile(`${base}.2.out`, 'element two\n');
    await files.writeFile(`${base}.2.err`, '');
    expect(await launcher.logs('101_2', 5)).toEqual({ stdout: 'element two', stderr: '' });
    await launcher.close();
    expect(shell.scheduler('scancel')).toEqual(['scancel 101_1', 'scancel 101_0 101_2']);
  });

  test('all or nothing: a rejected second array cancels the elements of the first', async () => {
    const shell = slurm(2, 2);
    const error = await new SlurmLauncher({ shell, ensureAgent }).launch({ connect: CONNECT, agentIds: ['r0', 'r1', 'r2'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobRejectedError);
    expect(shell.scheduler('scancel')).toEqual(['scancel 101_0 101_1']);
  });
});

describe('SGE', () => {
  test('one qsub -t 1-3 whose tasks log to <base>.$TASK_ID.out; tasks are <job>.<task> for qdel and qacct', async () => {
    const shell = new ScriptedShell(files, (command) => {
      if (/qsub /.test(command)) return { stdout: '40.1-3:1\n' };
      if (/qstat -xml/.test(command)) return { stdout: '<job_info><queue_info><job_list state="running"><JB_job_number>40</JB_job_number><state>r</state><tasks>1</tasks></job_list></queue_info></job_info>\n' };
      if (/qacct /.test(command)) return { stdout: '==============================================================\njobnumber    40\ntaskid       2\nfailed       0\nexit_status  0\n' };
      if (/qdel /.test(command)) return { stdout: 'root has deleted job-array task 40.3\n' };
      return undefined;
    });
    const launcher = new SgeLauncher({ shell, ensureAgent, clusterId: 'arr5' });
    const jobs = await launcher.launch({ connect: CONNECT, agentIds: ['s0', 's1', 's2'] });
    expect(jobs.map((j) => j.jobId)).toEqual(['40.1', '40.2', '40.3']);
    const qsub = shell.commands.find((c) => /qsub /.test(c.command));
    const base = `${home}/.clustrix/jobs/arr5/clustrix-s0`.replaceAll("'", "'\\''");
    expect(qsub?.command).toBe(`qsub -terse -w e -o '${base}.$TASK_ID.out' -e '${base}.$TASK_ID.err'`);
    expect(qsub?.stdin).toContain('#$ -t 1-3\n');
    expect(await launcher.status(['40.1', '40.2'])).toEqual([
      { jobId: '40.1', state: 'running' },
      { jobId: '40.2', state: 'completed', exitCode: 0 },
    ]);
    expect(shell.commands.map((c) => c.command).filter((c) => c.includes('qacct'))).toEqual(['qacct -j 40 -t 2']);
    await launcher.cancel(['40.3']);
    expect(shell.scheduler('qdel')).toEqual(['qdel 40.3']);
  });
});

describe('PBS', () => {
  const pbs = (answer: string): ScriptedShell =>
    new ScriptedShell(files, (command) => {
      if (/qsub /.test(command)) return { stdout: `${answer}\n` };
      if (/qstat /.test(command)) return { stdout: 'Job Id: 55[1].server\n\tjob_state = R\n' };
      if (/qdel /.test(command)) return { code: 0 };
      return undefined;
    });

  test('Torque/PBS Pro answer 55[].server: elements 55[<i>].server, watched with qstat -f -t', async () => {
    const shell = pbs('55[].server');
    const launcher = new PbsLauncher({ shell, ensureAgent, resourceStyle: 'pbspro', clusterId: 'arr6' });
    const jobs = await launcher.launch({ connect: CONNECT, agentIds: ['p0', 'p1'] });
    expect(jobs).toEqual([
      { jobId: '55[0].server', agentIds: ['p0'] },
      { jobId: '55[1].server', agentIds: ['p1'] },
    ]);
    expect(scripts(shell)[0]).toContain('#PBS -J 0-1\n');
    expect(await launcher.status(['55[1].server'])).toEqual([{ jobId: '55[1].server', state: 'running' }]);
    expect(shell.scheduler('qstat')).toEqual(["qstat -f -t '55[1].server'"]);
    await launcher.cancel(['55[0].server']);
    expect(shell.scheduler('qdel')).toEqual(["qdel '55[0].server'"]);
  });

  test("the slurm-torque wrappers answer a bare 56: one job of all the array's agents, never an element id", async () => {
    const shell = pbs('56');
    const launcher = new PbsLauncher({ shell, ensureAgent, clusterId: 'arr7' });
    expect(await launcher.launch({ connect: CONNECT, agentIds: ['w0', 'w1', 'w2'] })).toEqual([{ jobId: '56', agentIds: ['w0', 'w1', 'w2'] }]);
    expect(scripts(shell)[0]).toContain('#PBS -t 0-2\n');
    await launcher.close();
    expect(shell.scheduler('qdel')).toEqual(['qdel 56']);
  });
});
