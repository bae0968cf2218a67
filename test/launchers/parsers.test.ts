/**
 * Parsers against outputs captured from the real schedulers on the test machine
 * (test/fixtures/launchers/capture.sh: SLURM 22.05, SGE 8.1.9, slurm-wlm-torque PBS wrappers).
 */
import { describe, expect, test } from 'vitest';
import {
  parsePbsQstatFull,
  parseQacct,
  parseQsubJobId,
  parseSacct,
  parseSbatchParsable,
  parseScontrolJobs,
  parseSgeErrorReason,
  parseSgeQstatXml,
  parseSlurmExitCode,
  parseSqueue,
  sgeJobState,
  slurmJobState,
} from '../../coordinator/backends/launchers/batch/parsers.js';
import { fixture } from './helpers.js';

describe('SLURM', () => {
  test('squeue: running, held, waiting for its begin time', async () => {
    expect(parseSqueue(await fixture('slurm-squeue.txt'))).toEqual([
      { jobId: '56', state: 'pending', reason: 'BeginTime' },
      { jobId: '55', state: 'pending', reason: 'JobHeldUser' },
      { jobId: '54', state: 'running' },
    ]);
  });

  test('squeue and scontrol with an unknown id print only an error (to stderr): nothing parsed', async () => {
    expect(parseSqueue(await fixture('slurm-squeue-invalid.txt'))).toEqual([]);
    expect(parseScontrolJobs(await fixture('slurm-scontrol-invalid.txt'))).toEqual([]);
  });

  test.each([
    ['running', { jobId: '54', state: 'running' }],
    ['pending', { jobId: '55', state: 'pending', reason: 'JobHeldUser' }],
    ['completed', { jobId: '57', state: 'completed', exitCode: 0 }],
    ['failed', { jobId: '58', state: 'failed', reason: 'NonZeroExitCode', exitCode: 3 }],
    ['cancelled', { jobId: '54', state: 'cancelled', exitCode: 143 }],
    ['cancelled-pending', { jobId: '55', state: 'cancelled', reason: 'JobHeldUser', exitCode: 0 }],
  ])('scontrol show job -o: %s', async (name, expected) => {
    expect(parseScontrolJobs(await fixture(`slurm-scontrol-${name}.txt`))).toEqual([expected]);
  });

  test('scontrol: the job name holds a blank and does not confuse the fields', async () => {
    const text = await fixture('slurm-scontrol-pending.txt');
    expect(text).toContain('JobName=my job ');
    expect(parseScontrolJobs(text)[0]?.state).toBe('pending');
  });

  test('scontrol, one call per id in a loop (what the launcher runs), unknown ids dropped', async () => {
    expect(parseScontrolJobs(await fixture('slurm-scontrol-loop.txt'))).toEqual([
      { jobId: '57', state: 'completed', exitCode: 0 },
      { jobId: '58', state: 'failed', reason: 'NonZeroExitCode', exitCode: 3 },
    ]);
  });

  test('scontrol and sacct: a job past its time limit', async () => {
    expect(parseScontrolJobs(await fixture('slurm-scontrol-timeout.txt'))[0]).toMatchObject({ state: 'failed', reason: 'TIMEOUT: TimeLimit' });
    expect(parseSacct(await fixture('slurm-sacct-timeout.txt'))[0]).toMatchObject({ state: 'failed', reason: 'TIMEOUT' });
  });

  test('sacct -c: the jobcomp reader gives no state for a job cancelled while pending', async () => {
    expect(await fixture('slurm-sacct.stderr.txt')).toContain('Unknown type job JobState: CANCELLED');
    expect(parseSacct(await fixture('slurm-sacct.txt'))).toEqual([
      { jobId: '55', state: 'unknown', reason: 'no state reported' },
      { jobId: '54', state: 'cancelled', exitCode: 0 },
      { jobId: '58', state: 'failed', exitCode: 3 },
      { jobId: '57', state: 'completed', exitCode: 0 },
    ]);
  });

  test('sacct with slurmdbd: steps are skipped, "CANCELLED by <uid>" is cancelled', () => {
    // the format sacct -P prints with an accounting daemon (not available on the test machine)
    const text = '101|CANCELLED by 1000|0:15\n101.batch|CANCELLED|0:15\n101.extern|COMPLETED|0:0\n102|OUT_OF_MEMORY|0:125\n';
    expect(parseSacct(text)).toEqual([
      { jobId: '101', state: 'cancelled', exitCode: 143 },
      { jobId: '102', state: 'failed', reason: 'OUT_OF_MEMORY', exitCode: 253 },
    ]);
  });

  test('sbatch --parsable, and the rejections it prints', async () => {
    expect(parseSbatchParsable('4242\n')).toBe('4242');
    expect(parseSbatchParsable('4242;cluster2\n')).toBe('4242');
    expect(parseSbatchParsable(await fixture('slurm-sbatch-too-many-cpus.txt'))).toBeUndefined();
    expect(await fixture('slurm-sbatch-too-many-cpus.txt')).toContain('More processors requested than permitted');
    expect(await fixture('slurm-sbatch-bad-partition.txt')).toContain('Invalid partition name specified');
  });

  test('state names and exit codes', () => {
    expect(slurmJobState('COMPLETING')).toBe('running');
    expect(slurmJobState('NODE_FAIL')).toBe('failed');
    expect(slurmJobState('SOMETHING_NEW')).toBe('unknown');
    expect(parseSlurmExitCode('3:0')).toBe(3);
    expect(parseSlurmExitCode('0:9')).toBe(137);
    expect(parseSlurmExitCode('x')).toBeUndefined();
  });
});

describe('PBS (slurm-torque wrappers)', () => {
  test('qstat -f: running, queued, ended', async () => {
    expect(parsePbsQstatFull(await fixture('pbs-qstat-f-running.txt'))).toEqual([{ jobId: '59', state: 'running' }]);
    expect(parsePbsQstatFull(await fixture('pbs-qstat-f-queued.txt'))).toEqual([{ jobId: '61', state: 'pending' }]);
    // the wrappers print no exit_status: ended, outcome unknown
    expect(parsePbsQstatFull(await fixture('pbs-qstat-f-completed.txt'))).toEqual([
      { jobId: '60', state: 'completed', reason: 'ended; this qstat reports no exit_status' },
    ]);
  });

  test('qstat -f with several ids, one unknown: the known ones', async () => {
    expect(parsePbsQstatFull(await fixture('pbs-qstat-f-two-and-unknown.txt')).map((s) => [s.jobId, s.state])).toEqual([
      ['59', 'completed'],
      ['60', 'completed'],
    ]);
  });

  test('qstat -f as Torque prints it: exit_status, wrapped lines, server suffix', () => {
    // Torque's documented layout (no Torque server runs on the test machine): 4-space indent,
    // long values continued on tab-indented lines
    const text = [
      'Job Id: 123.head.example.org',
      '    Job_Name = clustrix-a1',
      '    job_state = C',
      '    exit_status = 3',
      '    Variable_List = PBS_O_HOME=/home/u,PBS_O_LANG=C,',
      '\tPBS_O_PATH=/usr/bin',
      '',
      'Job Id: 124.head.example.org',
      '    job_state = C',
      '    exit_status = 271',
      '',
      'Job Id: 125.head.example.org',
      '    job_state = C',
      '    exit_status = -1',
      '',
      'Job Id: 126.head.example.org',
      '    job_state = H',
      '',
      'Job Id: 127.head.example.org',
      '    job_state = Q',
      '    comment = Not Running: Insufficient amount of resource: ncpus',
    ].join('\n');
    expect(parsePbsQstatFull(text)).toEqual([
      { jobId: '123.head.example.org', state: 'failed', exitCode: 3 },
      { jobId: '124.head.example.org', state: 'failed', reason: 'killed by signal 15', exitCode: 143 },
      { jobId: '125.head.example.org', state: 'failed', reason: 'PBS could not start the job (exit_status -1)', exitCode: -1 },
      { jobId: '126.head.example.org', state: 'pending', reason: 'held' },
      { jobId: '127.head.example.org', state: 'pending', reason: 'Not Running: Insufficient amount of resource: ncpus' },
    ]);
  });

  test('qsub prints the id; a rejection is the wrapper relaying sbatch', async () => {
    expect(parseQsubJobId(await fixture('pbs-qsub.txt'))).toBe('59');
    expect(parseQsubJobId('123.head.example.org\n')).toBe('123.head.example.org');
    expect(parseQsubJobId(await fixture('pbs-qsub-too-many-cpus.txt'))).toBeUndefined();
    expect(await fixture('pbs-qsub-too-many-cpus.txt')).toContain('More processors requested than permitted');
  });
});

describe('SGE', () => {
  test('qstat -xml: running, error state, held', async () => {
    expect(parseSgeQstatXml(await fixture('sge-qstat.xml'))).toEqual([
      { jobId: '39', state: 'running' },
      { jobId: '42', state: 'running' },
      { jobId: '41', state: 'failed', reason: 'error state (Eqw)' },
      { jobId: '40', state: 'pending', reason: 'held (hqw)' },
    ]);
    expect(parseSgeQstatXml(await fixture('sge-qstat-empty.xml'))).toEqual([]);
  });

  test('qstat -j: why a job is in the error state', async () => {
    expect(parseSgeErrorReason(await fixture('sge-qstat-j-error.txt'))).toBe("error: can't chdir to /nonexistent/dir: No such file or directory");
    expect(parseSgeErrorReason(await fixture('sge-qstat-j-unknown.txt'))).toBeUndefined();
  });

  test('qacct -j: exit code, killed by qdel, failed before start, unknown', async () => {
    expect(parseQacct(await fixture('sge-qacct-exit3.txt'))).toEqual({ jobId: '42', state: 'failed', exitCode: 3 });
    expect(parseQacct(await fixture('sge-qacct-deleted-running.txt'))).toEqual({
      jobId: '39',
      state: 'failed',
      reason: 'failed 100: assumedly after job',
      exitCode: 137,
    });
    expect(parseQacct(await fixture('sge-qacct-error-state.txt'), '41')).toEqual({
      jobId: '41',
      state: 'failed',
      reason: 'failed 28: changing into working directory',
      exitCode: 0,
    });
    expect(parseQacct(await fixture('sge-qacct-unknown.txt'))).toBeUndefined();
  });

  test('qacct with a rescheduled job: the last run counts', async () => {
    const first = await fixture('sge-qacct-error-state.txt');
    const second = (await fixture('sge-qacct-exit3.txt')).replace(/^jobnumber\s+42/m, 'jobnumber    41');
    expect(parseQacct(first + second)).toEqual({ jobId: '41', state: 'failed', exitCode: 3 });
  });

  test('qsub -terse prints the bare id; -w e rejects an impossible request', async () => {
    expect(parseQsubJobId(await fixture('sge-qsub-terse.txt'))).toBe('39');
    expect(await fixture('sge-qsub-too-many-slots.txt')).toContain('no suitable queues');
  });

  test('state codes', () => {
    expect(sgeJobState('dr')).toBe('cancelled');
    expect(sgeJobState('t')).toBe('running');
    expect(sgeJobState('Rr')).toBe('running');
    expect(sgeJobState('s')).toBe('pending');
    expect(sgeJobState('hqw')).toBe('pending');
    expect(sgeJobState('?')).toBe('unknown');
  });
});
