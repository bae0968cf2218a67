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
import { baseTestOptions, launcherFixture, lifecycle, noUsableNode, rejected } from './cluster-scenario.js';
import { skipUnlessAnswers } from './helpers.js';

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

  test('close() cancels what is still queued or running', async () => {
    const launcher = make();
    const jobs = await launcher.launch({ connect: { url: 'ws://127.0.0.1:9', token: 'close-test' }, agentIds: ['c1', 'c2'] });
    await launcher.close();
    const ids = new Set(jobs.map((j) => j.jobId));
    const out = spawnSync(BIN ? path.join(BIN, 'qstat') : 'qstat', [], { encoding: 'utf8' }).stdout;
    // qdel'd jobs may still show as being deleted (d...), never as waiting or running
    const live = out.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => ids.has(f[0] ?? '') && !(f[4] ?? '').includes('d'));
    expect(live).toEqual([]);
  }, 120_000);
});
