/**
 * PbsLauncher against PBS-syntax qsub/qstat/qdel on this machine: Debian's slurm-wlm-torque
 * wrappers over the real SLURM (Debian has no PBS server), called by full path (binDir) through
 * LocalShell. Skipped when they do not answer, unless CLUSTRIX_TEST_CLUSTER=1 (CI).
 */
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { PbsLauncher, type PbsLauncherOptions } from '../../coordinator/backends/launchers/batch/index.js';
import { LocalShell } from '../../coordinator/backends/launchers/local-shell.js';
import { baseTestOptions, launcherFixture, lifecycle, noUsableNode, rejected } from './cluster-scenario.js';
import { fakeAgentReport, filesContaining, skipUnlessAnswers, waitFor } from './helpers.js';

const BIN = process.env.CLUSTRIX_TEST_PBS_PATH ?? '/opt/slurm-torque/usr/bin';
const SKIP = skipUnlessAnswers(`${BIN}/qstat`, []);

describe.skipIf(SKIP)('PbsLauncher on the PBS wrappers', () => {
  const shell = new LocalShell();
  const fx = launcherFixture('pbs', (o: PbsLauncherOptions) => new PbsLauncher(o), (dir) => ({
      ...baseTestOptions(shell, dir),
      binDir: BIN,
      resources: { time: '00:10:00', memory: '200M' },
    }));
  const make = fx.make;

  test('a job runs the agent with its environment, is cancelled, and its logs remain (paths with blanks, quotes, $)', async () => {
    // the wrappers run a SLURM job: PBS_JOBID is unset and CLUSTRIX_JOB_ID falls back to SLURM_JOB_ID, the same number
    await lifecycle({ launcher: make(), remoteDir: fx.remoteDir, timeoutMs: 120_000 });
  }, 300_000);

  test('more CPUs than any node has: the wrapper relays sbatch refusing, a JobRejectedError', async () => {
    await rejected(make({ resources: { cpusPerTask: 4096 } }), /More processors requested than permitted|Requested node configuration is not available/);
  }, 60_000);

  test('no usable node: the job ends (exit 3) and its stderr says what to do', async () => {
    // the wrappers' qstat shows an ended job as C with no exit_status, so the launcher cannot tell
    // failure from success here (a Torque or PBS Pro server reports exit_status = 3)
    await noUsableNode(make({ node: '/nonexistent/node' }), 120_000, { state: 'completed', reason: 'ended; this qstat reports no exit_status' });
  }, 180_000);

  test('an array of 3 (qsub -t 0-2): one SLURM array under the wrappers, tracked as one job; each element runs the agent of its index', async () => {
    const launcher = make();
    const ids = ['pbs-arr-0', "pbs 'arr' 1", 'pbs-arr-$2'];
    const jobs = await launcher.launch({ connect: { url: 'ws://10.202.0.1:9', token: 'array-test' }, agentIds: ids });
    expect(jobs).toHaveLength(1);
    const arrayId = jobs[0]!.jobId;
    expect(jobs[0]!.agentIds).toEqual(ids);
    const reports = await waitFor('three elements to report', async () => {
      const files = (await filesContaining(fx.remoteDir, '"fakeAgent":true')).filter((f) => f.includes('pbs-arr-0.'));
      const found = await Promise.all(files.map(async (f) => fakeAgentReport(await readFile(f, 'utf8'))));
      return found.length === 3 ? found : undefined;
    }, 120_000);
    expect(new Set(reports.map((r) => r?.agentId))).toEqual(new Set(ids));
    for (const r of reports) expect(r?.jobId).toBe(arrayId);
    const elements = spawnSync('squeue', ['-h', '-r', '-j', arrayId, '-o', '%i'], { encoding: 'utf8' }).stdout.trim().split('\n').sort();
    expect(elements).toEqual([0, 1, 2].map((t) => `${arrayId}_${t}`));
    await launcher.close();
    await waitFor('the array to leave the queue', async () => (spawnSync('squeue', ['-h', '-r', '-j', arrayId, '-t', 'PD,R'], { encoding: 'utf8' }).stdout.trim() === '' ? true : undefined), 60_000);
  }, 240_000);

  test('close() cancels what is still queued or running', async () => {
    const launcher = make();
    const jobs = await launcher.launch({ connect: { url: 'ws://127.0.0.1:9', token: 'close-test' }, agentIds: ['c1'] });
    await launcher.close();
    const out = spawnSync(`${BIN}/qstat`, jobs.map((j) => j.jobId), { encoding: 'utf8' }).stdout;
    expect(out.split('\n').filter((l) => / [QR] +\S+ *$/.test(l))).toEqual([]);
  }, 120_000);
});
