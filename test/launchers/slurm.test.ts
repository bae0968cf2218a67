/**
 * SlurmLauncher against the real SLURM on this machine (test/infra), through LocalShell.
 * Skipped when SLURM does not answer, unless CLUSTRIX_TEST_CLUSTER=1 (CI), where it must run.
 */
import { spawnSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { cacheAgentBundle, SlurmLauncher, type SlurmLauncherOptions } from '../../coordinator/launchers/batch/index.js';
import { LocalShell } from '../../coordinator/launchers/local-shell.js';
import { lifecycle, noUsableNode, rejected } from './cluster-scenario.js';
import { awkwardTempDir, FAKE_AGENT, skipUnlessAnswers } from './helpers.js';

const SKIP = skipUnlessAnswers('squeue', ['-h', '-o', '%i']);

describe.skipIf(SKIP)('SlurmLauncher on the real SLURM', () => {
  const shell = new LocalShell();
  const launchers: SlurmLauncher[] = [];
  let remoteDir: string;

  const make = (overrides: Partial<SlurmLauncherOptions> = {}): SlurmLauncher => {
    const launcher = new SlurmLauncher({
      shell,
      // the real agent is built elsewhere: the fake one goes through the same content-addressed cache
      ensureAgent: cacheAgentBundle(FAKE_AGENT, { cacheDir: `${remoteDir}/cache` }),
      remoteDir,
      node: process.execPath,
      setup: ['export CLUSTRIX_TEST_SETUP=$((40 + 2))'],
      resources: { time: '00:10:00', memory: '200M' },
      ...overrides,
    });
    launchers.push(launcher);
    return launcher;
  };

  beforeAll(async () => {
    remoteDir = await awkwardTempDir('slurm');
  });
  afterAll(async () => {
    await Promise.all(launchers.map((l) => l.close()));
    await rm(remoteDir, { recursive: true, force: true });
  });

  test('a job runs the agent with its environment, is cancelled, and its logs remain (paths with blanks, quotes, $)', async () => {
    await lifecycle({ launcher: make(), remoteDir, timeoutMs: 120_000 });
  }, 300_000);

  test('more CPUs than any node has: sbatch refuses (EnforcePartLimits=ALL), a JobRejectedError', async () => {
    await rejected(make({ resources: { cpusPerTask: 4096 } }), /More processors requested than permitted|Requested node configuration is not available/);
  }, 60_000);

  test('no usable node: the job fails with exit 3 and its stderr says what to do', async () => {
    await noUsableNode(make({ node: '/nonexistent/node' }), 120_000);
  }, 180_000);

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
