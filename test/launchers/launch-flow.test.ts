/**
 * The launchers' flow against a scripted scheduler: the test double `ScriptedShell` answers each
 * command from a handler (files go to a real temp home through LocalShell) and records everything
 * that crosses the seam, so the token can be looked for in every command, stdin and file.
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ClusterClosedError, ConfigError } from '../../coordinator/errors/errors.js';
import { JobRejectedError, PbsLauncher, SchedulerCommandError, SgeLauncher, SlurmLauncher } from '../../coordinator/backends/launchers/batch/index.js';
import { LocalShell } from '../../coordinator/backends/launchers/local-shell.js';
import { awkwardTempDir } from './helpers.js';
import { ScriptedShell } from './scripted-shell.js';

const TOKEN = 'flow-token-7f3e9c1d-do-not-leak';
const CONNECT = { url: 'ws://10.0.0.1:7070', token: TOKEN };

let home: string;
let files: LocalShell;
const ensureAgent = (): Promise<string> => Promise.resolve('/shared/agent.mjs');

beforeAll(async () => {
  home = await awkwardTempDir('flow');
  files = new LocalShell({ env: { ...process.env, HOME: home } });
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

function slurmShell(rejectNth = 0): ScriptedShell {
  let submitted = 0;
  return new ScriptedShell(files, (command) => {
    if (/sbatch'? /.test(command)) {
      submitted++;
      if (submitted === rejectNth) return { code: 1, stderr: 'sbatch: error: Batch job submission failed: More processors requested than permitted\n' };
      return { stdout: `${100 + submitted}\n` };
    }
    if (/(scancel|squeue|scontrol|sacct)'? /.test(command)) return { code: 0 };
    return undefined;
  });
}

describe('launch', () => {
  test('maxArraySize 1: one job per agent; the token goes only to the 0600 token file, never to a command, stdin or script', async () => {
    const shell = slurmShell();
    const launcher = new SlurmLauncher({ shell, ensureAgent, clusterId: 'flow1', resources: { cpusPerTask: 2 }, binDir: '/opt/slurm bin/', maxArraySize: 1 });
    const jobs = await launcher.launch({ connect: CONNECT, agentIds: ['a1', 'a2', 'a/3'], slots: 1 });
    expect(jobs).toEqual([
      { jobId: '101', agentIds: ['a1'] },
      { jobId: '102', agentIds: ['a2'] },
      { jobId: '103', agentIds: ['a/3'] },
    ]);
    const jobDir = `${home}/.clustrix/jobs/flow1`;
    expect(shell.writes.map((w) => [w.path, w.mode])).toEqual([
      [`${jobDir}/token`, 0o600],
      [`${jobDir}/clustrix-a1.sh`, 0o700],
      [`${jobDir}/clustrix-a2.sh`, 0o700],
      [`${jobDir}/clustrix-a_3.sh`, 0o700],
    ]);
    expect(shell.writes[0]?.data).toBe(`${TOKEN}\n`);
    for (const w of shell.writes.slice(1)) expect(w.data).not.toContain(TOKEN);
    for (const c of shell.commands) expect(`${c.command}\n${c.stdin}`).not.toContain(TOKEN);
    expect(shell.commands.length).toBeGreaterThan(3);
    // binDir: the command path is used, quoted
    expect(shell.scheduler('sbatch')[0]).toBe(`'/opt/slurm bin/sbatch' --parsable '${jobDir.replaceAll("'", "'\\''")}/clustrix-a1.sh'`);
    // a second launch with the same token does not rewrite the token file
    await launcher.launch({ connect: CONNECT, agentIds: ['a4'] });
    expect(shell.writes.filter((w) => w.path.endsWith('/token'))).toHaveLength(1);
    await launcher.close();
  });

  test('all or nothing: a rejection cancels the jobs this call already submitted', async () => {
    const shell = slurmShell(3);
    const launcher = new SlurmLauncher({ shell, ensureAgent, clusterId: 'flow2', resources: { cpusPerTask: 64 }, maxArraySize: 1 });
    const error = await launcher.launch({ connect: CONNECT, agentIds: ['b1', 'b2', 'b3'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobRejectedError);
    expect(error).toMatchObject({
      code: 'JOB_REJECTED',
      scheduler: 'slurm',
      exitCode: 1,
      stderr: 'sbatch: error: Batch job submission failed: More processors requested than permitted',
      scriptPath: `${home}/.clustrix/jobs/flow2/clustrix-b3.sh`,
      hint: 'no node can hold one agent job: lower resources.cpusPerTask, memory, gpus or nodes (`sinfo -o "%P %D %c %m %G"` lists what the nodes have)',
    });
    expect(shell.scheduler('scancel')).toEqual(["scancel 101 102"]);
  });

  test('slurm with nodes: 2 puts two agents in each job, and the rest in a smaller one', async () => {
    const shell = slurmShell();
    const launcher = new SlurmLauncher({ shell, ensureAgent, clusterId: 'flow3', resources: { nodes: 2 } });
    const jobs = await launcher.launch({ connect: CONNECT, agentIds: ['n1', 'n2', 'n3'] });
    expect(jobs.map((j) => j.agentIds)).toEqual([['n1', 'n2'], ['n3']]);
    const scripts = shell.writes.filter((w) => w.path.endsWith('.sh')).map((w) => w.data);
    expect(scripts[0]).toContain('#SBATCH --nodes=2\n');
    expect(scripts[0]).toContain('exec srun --nodes=2 --ntasks=2');
    expect(scripts[1]).toContain('#SBATCH --nodes=1\n');
    expect(scripts[1]).toContain("export CLUSTRIX_AGENT_ID=n3\n");
  });

  test('sge pipes the script to qsub -terse -w e with -o/-e on the command line', async () => {
    const shell = new ScriptedShell(files, (command) => (/qsub /.test(command) ? { stdout: '77\n' } : undefined));
    const launcher = new SgeLauncher({ shell, ensureAgent, clusterId: 'flow4' });
    await launcher.launch({ connect: CONNECT, agentIds: ['s1'] });
    const qsub = shell.commands.find((c) => /qsub /.test(c.command));
    const q = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
    const base = `${home}/.clustrix/jobs/flow4/clustrix-s1`;
    expect(qsub?.command).toBe(`qsub -terse -w e -o ${q(`${base}.out`)} -e ${q(`${base}.err`)}`);
    expect(qsub?.stdin).toContain('#$ -N clustrix-s1\n');
    expect(qsub?.stdin).not.toContain(TOKEN);
  });

  test('pbs runs qsub in the job directory with plain relative names (the wrapper does not quote)', async () => {
    const shell = new ScriptedShell(files, (command) => (/qsub /.test(command) ? { stdout: '12.server\n' } : undefined));
    const launcher = new PbsLauncher({ shell, ensureAgent, clusterId: 'flow5' });
    expect(await launcher.launch({ connect: CONNECT, agentIds: ['p 1'] })).toEqual([{ jobId: '12.server', agentIds: ['p 1'] }]);
    const dir = `${home}/.clustrix/jobs/flow5`;
    expect(shell.scheduler('qsub')[0]).toBe(`cd '${dir.replaceAll("'", "'\\''")}' && qsub -r n -o clustrix-p_1.out -e clustrix-p_1.err clustrix-p_1.sh`);
  });

  test('a submit command that is not there is a set-up error naming binDir, not a rejection', async () => {
    const shell = new ScriptedShell(files, (command) => (/sbatch /.test(command) ? { code: 127, stderr: 'sh: 1: sbatch: not found\n' } : undefined));
    const error = await new SlurmLauncher({ shell, ensureAgent }).launch({ connect: CONNECT, agentIds: ['m1'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SchedulerCommandError);
    expect(error).toMatchObject({
      code: 'SCHEDULER_COMMAND_FAILED',
      exitCode: 127,
      hint: 'the command was not found on the login node: set the launcher option binDir to the directory that holds it',
    });
  });

  test('a bad request is a TypeError before anything runs', async () => {
    const shell = slurmShell();
    const launcher = new SlurmLauncher({ shell, ensureAgent });
    await expect(launcher.launch({ connect: CONNECT, agentIds: [] })).rejects.toThrow(new TypeError('request.agentIds must be a non-empty array of strings, got an array'));
    await expect(launcher.launch({ connect: CONNECT, agentIds: ['x', 'x'] })).rejects.toThrow(new TypeError('request.agentIds must not repeat an id'));
    await expect(launcher.launch({ connect: { url: 'http://x', token: 't' }, agentIds: ['x'] })).rejects.toThrow(
      new TypeError('request.connect.url must be a ws:// or wss:// address, got "http://x"'),
    );
    await expect(launcher.launch({ connect: { url: 'ws://x', token: 'a\nb' }, agentIds: ['x'] })).rejects.toThrow(new TypeError('request.connect.token must be a single line'));
    expect(shell.commands).toEqual([]);
  });
});

describe('status, cancel, logs, close', () => {
  test('slurm asks squeue, then scontrol for ended jobs, then sacct; unknown ids stay unknown', async () => {
    const shell = new ScriptedShell(files, (command) => {
      if (/sbatch /.test(command)) return { stdout: '200\n' };
      if (/squeue /.test(command)) return { stdout: '201|PENDING|Priority\n' };
      if (/scontrol show job -o 202/.test(command)) return { stdout: 'JobId=202 JobName=x JobState=FAILED Reason=NonZeroExitCode ExitCode=2:0\n' };
      if (/scontrol /.test(command)) return { code: 1, stderr: 'slurm_load_jobs error: Invalid job id specified\n' };
      if (/sacct /.test(command)) return { stdout: '203|COMPLETED|0:0\n203.batch|COMPLETED|0:0\n' };
      return undefined;
    });
    const launcher = new SlurmLauncher({ shell, ensureAgent, accounting: 'jobcomp' });
    expect(await launcher.status(['201', '202', '203', '204'])).toEqual([
      { jobId: '201', state: 'pending', reason: 'Priority' },
      { jobId: '202', state: 'failed', reason: 'NonZeroExitCode', exitCode: 2 },
      { jobId: '203', state: 'completed', exitCode: 0 },
      { jobId: '204', state: 'unknown', reason: 'slurm does not know this job (any more)' },
    ]);
    expect(shell.scheduler('squeue')).toEqual(["squeue -h -r -j 201,202,203,204 -o '%i|%T|%r'"]);
    expect(shell.scheduler('sacct')).toEqual(['sacct -c -n -P -j 203,204 -o JobID,State,ExitCode']);
  });

  test('pbs: a job this launcher cancelled is reported cancelled when qstat only says it ended', async () => {
    let ended = false;
    const shell = new ScriptedShell(files, (command) => {
      if (/qsub /.test(command)) return { stdout: '31\n' };
      if (/qdel /.test(command)) {
        ended = true;
        return { code: 0 };
      }
      if (/qstat /.test(command)) return { stdout: `Job Id:\t31\n\tjob_state = ${ended ? 'C' : 'R'}\n` };
      return undefined;
    });
    const launcher = new PbsLauncher({ shell, ensureAgent });
    const [job] = await launcher.launch({ connect: CONNECT, agentIds: ['c1'] });
    expect(await launcher.status(['31'])).toEqual([{ jobId: '31', state: 'running' }]);
    await launcher.cancel([job?.jobId ?? '']);
    expect(await launcher.status(['31'])).toEqual([
      { jobId: '31', state: 'cancelled', reason: 'cancelled by clustrix (pbs: ended; this qstat reports no exit_status)' },
    ]);
    // close() does not cancel it again, and is idempotent
    await launcher.close();
    await launcher.close();
    expect(shell.scheduler('qdel')).toHaveLength(1);
    await expect(launcher.launch({ connect: CONNECT, agentIds: ['c2'] })).rejects.toBeInstanceOf(ClusterClosedError);
  });

  test('close cancels the jobs still queued or running, not those known to have ended', async () => {
    let n = 0;
    const shell = new ScriptedShell(files, (command) => {
      if (/sbatch /.test(command)) return { stdout: `${300 + ++n}\n` };
      if (/squeue /.test(command)) return { stdout: '302|RUNNING|None\n' };
      if (/scontrol show job -o 301/.test(command)) return { stdout: 'JobId=301 JobState=COMPLETED Reason=None ExitCode=0:0\n' };
      if (/scancel /.test(command)) return { code: 0 };
      return undefined;
    });
    const launcher = new SlurmLauncher({ shell, ensureAgent, maxArraySize: 1 });
    await launcher.launch({ connect: CONNECT, agentIds: ['d1', 'd2', 'd3'] });
    await launcher.status(['301', '302']);
    await launcher.close();
    expect(shell.scheduler('scancel')).toEqual(['scancel 302 303']);
  });

  test('logs: the last lines of the job files; empty for a job it did not start', async () => {
    const shell = slurmShell();
    const launcher = new SlurmLauncher({ shell, ensureAgent, clusterId: 'flow6' });
    const [job] = await launcher.launch({ connect: CONNECT, agentIds: ['l1'] });
    const base = `${home}/.clustrix/jobs/flow6/clustrix-l1`;
    await files.writeFile(`${base}.out`, 'one\ntwo\nthree\n');
    await files.writeFile(`${base}.err`, 'oops\n');
    expect(await launcher.logs(job?.jobId ?? '', 2)).toEqual({ stdout: 'two\nthree', stderr: 'oops' });
    expect(await launcher.logs('999', 5)).toEqual({ stdout: '', stderr: '' });
    await expect(launcher.logs('101', -1)).rejects.toThrow(new ConfigError('lines must be a non-negative integer, got -1'));
  });
});
