/**
 * PbsLauncher against PBS-syntax qsub/qstat/qdel on this machine: Debian's slurm-wlm-torque
 * wrappers over the real SLURM (Debian has no PBS server), called by full path (binDir) through
 * LocalShell. Skipped when they do not answer, unless CLUSTRIX_TEST_CLUSTER=1 (CI).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { PbsLauncher, type PbsLauncherOptions } from '../../coordinator/backends/launchers/batch/index.js';
import { LocalShell } from '../../coordinator/backends/launchers/local-shell.js';
import { baseTestOptions, launcherFixture, lifecycle, noUsableNode, rejected } from './cluster-scenario.js';
import { skipUnlessAnswers } from './helpers.js';

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

  test('close() cancels what is still queued or running', async () => {
    const launcher = make();
    const jobs = await launcher.launch({ connect: { url: 'ws://127.0.0.1:9', token: 'close-test' }, agentIds: ['c1', 'c2'] });
    await launcher.close();
    const out = spawnSync(`${BIN}/qstat`, jobs.map((j) => j.jobId), { encoding: 'utf8' }).stdout;
    expect(out.split('\n').filter((l) => / [QR] +\S+ *$/.test(l))).toEqual([]);
  }, 120_000);
});
