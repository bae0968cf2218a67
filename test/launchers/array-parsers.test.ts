/**
 * Job array elements in what the real schedulers print (captured by test/fixtures/launchers/
 * capture.sh, part `arrays`: SLURM 22.05, SGE 8.1.9, the slurm-torque PBS wrappers).
 */
import { describe, expect, test } from 'vitest';
import { elementJobIds, elementPath } from '../../coordinator/backends/launchers/batch/job-array.js';
import {
  expandTaskList,
  parseQacct,
  parseQsubJobId,
  parseSbatchParsable,
  parseScontrolJobs,
  parseScontrolMaxArraySize,
  parseSgeQstatXml,
  parseSgeSubmitted,
  parseSqueue,
  slurmJobIds,
} from '../../coordinator/backends/launchers/batch/parsers.js';
import { fixture } from './helpers.js';

const held = (jobId: string) => ({ jobId, state: 'pending', reason: 'JobHeldUser' });

describe('SLURM arrays (a held array of 8, elements 2 and 5 released)', () => {
  test('squeue collapses the pending elements into 181_[0-1,3-4,6-7]: one status per element', async () => {
    expect(parseSqueue(await fixture('slurm-squeue-array.txt'))).toEqual([
      ...[0, 1, 3, 4, 6, 7].map((t) => held(`181_${t}`)),
      { jobId: '181_2', state: 'running' },
      { jobId: '181_5', state: 'running' },
    ]);
  });

  test('squeue -r -j with element ids (what the launcher runs): one line each', async () => {
    expect(parseSqueue(await fixture('slurm-squeue-array-r.txt'))).toEqual([held('181_3'), { jobId: '181_2', state: 'running' }, { jobId: '181_5', state: 'running' }]);
  });

  test('scontrol show job of the array: the pending record (ArrayTaskId=0-1,3-4,6-7) is one status per element', async () => {
    const statuses = parseScontrolJobs(await fixture('slurm-scontrol-array.txt'));
    expect(statuses.map((s) => s.jobId).sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7].map((t) => `181_${t}`));
    expect(statuses.find((s) => s.jobId === '181_5')).toEqual({ jobId: '181_5', state: 'running' });
    expect(statuses.find((s) => s.jobId === '181_0')).toEqual(held('181_0'));
  });

  test('scontrol show job <id>_<task>: an element by its element id, not its own job id (JobId=182)', async () => {
    const text = await fixture('slurm-scontrol-array-elements.txt');
    expect(text).toMatch(/^JobId=182 ArrayJobId=181 ArrayTaskId=2 /);
    expect(parseScontrolJobs(text)).toEqual([
      { jobId: '181_2', state: 'cancelled', exitCode: 143 },
      { ...held('181_3'), jobId: '181_3' },
      { jobId: '181_5', state: 'running' },
    ]);
  });

  test('sbatch --parsable of an array is the array id; MaxArraySize from scontrol show config', async () => {
    expect(parseSbatchParsable(await fixture('slurm-sbatch-array.txt'))).toBe('181');
    expect(elementJobIds('slurm', '181', 3)).toEqual(['181_0', '181_1', '181_2']);
    expect(parseScontrolMaxArraySize(await fixture('slurm-scontrol-config.txt'))).toBe(1001);
    expect(parseScontrolMaxArraySize('ClusterName = x\n')).toBeUndefined();
  });

  test('collapsed forms: a throttle (%2) and single tasks; a plain id stays itself', () => {
    expect(slurmJobIds('7_[0-2,5%2]')).toEqual(['7_0', '7_1', '7_2', '7_5']);
    expect(slurmJobIds('7_4')).toEqual(['7_4']);
    expect(slurmJobIds('7')).toEqual(['7']);
    expect(expandTaskList('1-9:4,12,x,3-')).toEqual([1, 5, 9, 12]);
  });
});

describe('SGE arrays (tasks 1-3 running; a held array of 4)', () => {
  test('qsub -terse prints 95.1-3:1: the job number', async () => {
    const text = await fixture('sge-qsub-terse-array.txt');
    expect(text.trim()).toMatch(/^\d+\.1-3:1$/);
    expect(parseSgeSubmitted(text)).toBe(text.split('.')[0]);
    expect(parseSgeSubmitted('77\n')).toBe('77');
    expect(elementJobIds('sge', '95', 3)).toEqual(['95.1', '95.2', '95.3']);
  });

  test('qstat -xml: a running task is <job>.<task>; held tasks share one entry (1-4:1)', async () => {
    const statuses = parseSgeQstatXml(await fixture('sge-qstat-array-pending.xml'));
    expect(statuses).toEqual([
      { jobId: '95.1', state: 'running' },
      { jobId: '95.2', state: 'running', reason: 'starting (t)' },
      { jobId: '95.3', state: 'running', reason: 'starting (t)' },
      ...[1, 2, 3, 4].map((t) => ({ jobId: `96.${t}`, state: 'pending', reason: 'held (hqw)' })),
    ]);
  });

  test('qstat -xml after qdel 96.3 and qrls of task 1: the held rest is 2,4', async () => {
    const ids = parseSgeQstatXml(await fixture('sge-qstat-array.xml')).map((s) => `${s.jobId}:${s.state}`);
    expect(ids).toEqual(['95.1:running', '95.2:running', '95.3:running', '96.1:running', '96.2:pending', '96.4:pending']);
  });

  test('qacct -j <job> -t <task>, and qacct -j <job> picking the task out of all of them', async () => {
    const killed = { state: 'failed', reason: 'failed 100: assumedly after job', exitCode: 137 };
    expect(parseQacct(await fixture('sge-qacct-array-task.txt'), '95.2')).toEqual({ jobId: '95.2', ...killed });
    const all = await fixture('sge-qacct-array.txt');
    expect(all.match(/^taskid/gm)).toHaveLength(3);
    expect(parseQacct(all, '95.3')).toEqual({ jobId: '95.3', ...killed });
    expect(parseQacct(all, '95.7')).toBeUndefined();
  });

  test('qdel of one task, and of a task that does not exist (the launcher ignores it)', async () => {
    expect(await fixture('sge-qdel-task.txt')).toMatch(/^root has deleted job-array task 96\.3\n$/);
    expect(await fixture('sge-qdel-task-unknown.txt')).toMatch(/does not exist/);
  });
});

describe('PBS arrays', () => {
  test('the slurm-torque wrapper answers an array with the bare SLURM id: one id for the whole array', async () => {
    const answer = parseQsubJobId(await fixture('pbs-qsub-array.txt'));
    expect(answer).toMatch(/^\d+$/);
    expect(elementJobIds('pbs', answer ?? '', 3)).toEqual([answer]);
  });

  test('Torque and PBS Pro answer 123[].server: elements 123[0].server ...', () => {
    expect(parseQsubJobId('123[].pbs-server.example\n')).toBe('123[].pbs-server.example');
    expect(elementJobIds('pbs', '123[].pbs-server.example', 2)).toEqual(['123[0].pbs-server.example', '123[1].pbs-server.example']);
    expect(elementJobIds('pbs', '123[]', 2)).toEqual(['123[0]', '123[1]']);
  });
});

test('element log files: the task id before the extension', () => {
  expect(elementPath('/a b/c.d/job.out', 4)).toBe('/a b/c.d/job.4.out');
  expect(elementPath('/a b/c.d/job', '%a')).toBe('/a b/c.d/job.%a');
  expect(elementPath('/x/.hidden', 1)).toBe('/x/.hidden.1');
});
