/**
 * SlurmLauncher against the real SLURM on this machine (test/infra), through LocalShell.
 * Skipped when SLURM does not answer, unless CLUSTRIX_TEST_CLUSTER=1 (CI), where it must run.
 */
import { spawnSync } from 'node:child_process';
import { copyFile, writeFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { SlurmLauncher, type SlurmLauncherOptions } from '../../coordinator/backends/launchers/batch/index.js';
import { renderJobScript } from '../../coordinator/backends/launchers/batch/job-script.js';
import { compileResources } from '../../coordinator/backends/launchers/batch/resources.js';
import { shellQuote } from '../../coordinator/backends/launchers/batch/shell-quote.js';
import { LocalShell } from '../../coordinator/backends/launchers/local-shell.js';
import { baseTestOptions, launcherFixture, lifecycle, noUsableNode, rejected, waitForState } from './cluster-scenario.js';
import { FAKE_AGENT, fakeAgentReport, skipUnlessAnswers, waitFor } from './helpers.js';

const SKIP = skipUnlessAnswers('squeue', ['-h', '-o', '%i']);

describe.skipIf(SKIP)('SlurmLauncher on the real SLURM', () => {
  const shell = new LocalShell();
  const fx = launcherFixture('slurm', (o: SlurmLauncherOptions) => new SlurmLauncher(o), (dir) => ({
      ...baseTestOptions(shell, dir),
      resources: { time: '00:10:00', memory: '200M' },
    }));
  const make = fx.make;

  test('a job runs the agent with its environment, is cancelled, and its logs remain (paths with blanks, quotes, $)', async () => {
    await lifecycle({ launcher: make(), remoteDir: fx.remoteDir, timeoutMs: 120_000 });
  }, 300_000);

  test('more CPUs than any node has: sbatch refuses (EnforcePartLimits=ALL), a JobRejectedError', async () => {
    await rejected(make({ resources: { cpusPerTask: 4096 } }), /More processors requested than permitted|Requested node configuration is not available/);
  }, 60_000);

  test('no usable node: the job fails with exit 3 and its stderr says what to do', async () => {
    await noUsableNode(make({ node: '/nonexistent/node' }), 120_000);
  }, 180_000);

  test('a 2-node job under the real srun: each node\'s task takes its rank\'s agent id', async () => {
    const agentPath = `${fx.remoteDir}/agent for srun.mjs`;
    await copyFile(FAKE_AGENT, agentPath);
    await writeFile(`${fx.remoteDir}/srun-token`, 'srun-token\n', { mode: 0o600 });
    const script = renderJobScript({
      scheduler: { kind: 'slurm' },
      resources: compileResources({ nodes: 2, time: 5 }, 'slurm'),
      jobName: 'clustrix-srun',
      stdoutPath: `${fx.remoteDir}/srun.out`,
      stderrPath: `${fx.remoteDir}/srun.err`,
      workDir: fx.remoteDir,
      setup: [],
      node: process.execPath,
      agentPath,
      tokenFile: `${fx.remoteDir}/srun-token`,
      url: 'ws://127.0.0.1:9',
      agentIds: ["rank 'zero' $0", 'rank-one'],
    });
    await writeFile(`${fx.remoteDir}/srun.sh`, script);
    const submitted = await shell.exec(`sbatch --parsable ${shellQuote(`${fx.remoteDir}/srun.sh`)}`);
    expect(submitted.stderr).toBe('');
    const jobId = submitted.stdout.trim();
    try {
      const reports = await waitFor('both srun tasks to report', async () => {
        const lines = (await shell.readTail(`${fx.remoteDir}/srun.out`, 10_000)).split('\n').filter((l) => l.startsWith('{"fakeAgent"'));
        return lines.length === 2 ? lines.map((l) => JSON.parse(l) as Record<string, unknown>) : undefined;
      }, 120_000);
      expect(new Set(reports.map((r) => r.agentId))).toEqual(new Set(["rank 'zero' $0", 'rank-one']));
      for (const r of reports) expect(r).toMatchObject({ jobId, tokenLength: 'srun-token'.length });
      // two nodes of the test cluster, each its own network and UTS namespace
      expect(new Set(reports.map((r) => r.host)).size).toBe(2);
    } finally {
      await shell.exec(`scancel ${shellQuote(jobId)}`);
    }
  }, 180_000);

  test('an array of 3: one sbatch; each element runs its own agent id with its element job id; one element is cancelled alone', async () => {
    const launcher = make();
    const ids = ['arr-0', "arr '1'", 'arr $2'];
    const jobs = await launcher.launch({ connect: { url: 'ws://10.202.0.1:9', token: 'array-test' }, agentIds: ids });
    const arrayId = /^(\d+)_0$/.exec(jobs[0]?.jobId ?? '')?.[1];
    expect(jobs).toEqual(ids.map((id, i) => ({ jobId: `${arrayId}_${i}`, agentIds: [id] })));
    for (const job of jobs) {
      const report = await waitFor(`element ${job.jobId} to report`, async () => fakeAgentReport((await launcher.logs(job.jobId, 20)).stdout), 120_000);
      expect(report).toMatchObject({ agentId: job.agentIds[0], jobId: job.jobId });
      expect(String(report.host)).toMatch(/^cx-node[1-4]$/);
    }
    await launcher.cancel([jobs[1]!.jobId]);
    expect(await waitForState(launcher, jobs[1]!.jobId, ['cancelled', 'completed', 'failed'], 60_000)).toMatchObject({ state: 'cancelled' });
    expect((await launcher.status([jobs[0]!.jobId, jobs[2]!.jobId])).map((s) => s.state)).toEqual(['running', 'running']);
    await launcher.close();
  }, 240_000);

  test('close() cancels what is still queued or running', async () => {
    const launcher = make();
    const jobs = await launcher.launch({ connect: { url: 'ws://127.0.0.1:9', token: 'close-test' }, agentIds: ['c1', 'c2'] });
    await launcher.close();
    const ids = jobs.map((j) => j.jobId).join(',');
    const left = spawnSync('squeue', ['-h', '-j', ids, '-o', '%i %T'], { encoding: 'utf8' }).stdout.trim();
    // scancel is asynchronous: a job may still be COMPLETING a moment, never PENDING or RUNNING
    expect(left.split('\n').filter((l) => / (PENDING|RUNNING)$/.test(l))).toEqual([]);
  }, 120_000);
});
