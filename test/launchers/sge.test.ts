/**
 * SgeLauncher against the real Son of Grid Engine on this machine (test/infra), through
 * LocalShell. Skipped when SGE does not answer, unless CLUSTRIX_TEST_CLUSTER=1 (CI).
 * SGE jobs start and end slowly on a loaded 2-core machine (tens of seconds): generous timeouts.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { SgeLauncher, type SgeLauncherOptions } from '../../coordinator/backends/launchers/batch/index.js';
import { LocalShell } from '../../coordinator/backends/launchers/local-shell.js';
import { baseTestOptions, launcherFixture, lifecycle, noUsableNode, rejected, waitForState } from './cluster-scenario.js';
import { fakeAgentReport, skipUnlessAnswers, waitFor } from './helpers.js';

const BIN = process.env.CLUSTRIX_TEST_SGE_PATH ?? '';
const SKIP = skipUnlessAnswers(BIN ? path.join(BIN, 'qconf') : 'qconf', ['-sql']);

describe.skipIf(SKIP)('SgeLauncher on the real SGE', () => {
  const shell = new LocalShell();
  const fx = launcherFixture('sge', (o: SgeLauncherOptions) => new SgeLauncher(o), (dir) => ({
      ...baseTestOptions(shell, dir),
      binDir: BIN,
      resources: { time: '00:10:00', memory: '2G' },
    }));
  const make = fx.make;

  test('a job runs the agent with its environment, is cancelled, and its logs remain (paths with blanks, quotes, $)', async () => {
    await lifecycle({ launcher: make(), remoteDir: fx.remoteDir, timeoutMs: 240_000 });
  }, 600_000);

  test('more slots than any queue has: qsub -w e refuses, a JobRejectedError', async () => {
    await rejected(make({ resources: { cpusPerTask: 4096 } }), /no suitable queues/);
  }, 60_000);

  test('no usable node: the job fails with exit 3 and its stderr says what to do', async () => {
    await noUsableNode(make({ node: '/nonexistent/node' }), 240_000);
  }, 300_000);

  test('an array of 2: one qsub -t 1-2; each task runs its own agent id with its task job id; one task is deleted alone', async () => {
    const launcher = make();
    const jobs = await launcher.launch({ connect: { url: 'ws://127.0.0.1:9', token: 'array-test' }, agentIds: ['sge-arr-0', "sge 'arr' 1"] });
    const job = /^(\d+)\.1$/.exec(jobs[0]?.jobId ?? '')?.[1];
    expect(jobs).toEqual([
      { jobId: `${job}.1`, agentIds: ['sge-arr-0'] },
      { jobId: `${job}.2`, agentIds: ["sge 'arr' 1"] },
    ]);
    for (const j of jobs) {
      const report = await waitFor(`task ${j.jobId} to report`, async () => fakeAgentReport((await launcher.logs(j.jobId, 20)).stdout), 240_000, 1000);
      expect(report).toMatchObject({ agentId: j.agentIds[0], jobId: j.jobId });
    }
    await launcher.cancel([jobs[0]!.jobId]);
    expect(await waitForState(launcher, jobs[0]!.jobId, ['cancelled', 'completed', 'failed'], 120_000)).toMatchObject({ state: 'cancelled' });
    expect((await launcher.status([jobs[1]!.jobId]))[0]?.state).toBe('running');
    await launcher.close();
  }, 600_000);

  test('close() cancels what is still queued or running', async () => {
    const launcher = make();
    const jobs = await launcher.launch({ connect: { url: 'ws://127.0.0.1:9', token: 'close-test' }, agentIds: ['c1', 'c2'] });
    await launcher.close();
    // tasks of one array, 77.1 and 77.2: qstat lists them under the job number
    const ids = new Set(jobs.map((j) => j.jobId.replace(/\.\d+$/, '')));
    expect(ids.size).toBe(1);
    const out = spawnSync(BIN ? path.join(BIN, 'qstat') : 'qstat', [], { encoding: 'utf8' }).stdout;
    // qdel'd jobs may still show as being deleted (d...), never as waiting or running
    const live = out.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => ids.has(f[0] ?? '') && !(f[4] ?? '').includes('d'));
    expect(live).toEqual([]);
  }, 120_000);
});
