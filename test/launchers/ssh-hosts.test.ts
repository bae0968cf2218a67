/**
 * SshHostsLauncher with LocalShell standing in for each host's SSH connection: real setsid'd
 * processes on this machine, real /proc checks. Needs no scheduler, so it always runs.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, test } from 'vitest';
import { cacheAgentBundle, JobRejectedError, SshHostsLauncher, type SshHostsLauncherOptions } from '../../coordinator/backends/launchers/batch/index.js';
import { LocalShell } from '../../coordinator/backends/launchers/local-shell.js';
import { launcherFixture, lifecycle, noUsableNode, waitForState } from './cluster-scenario.js';
import { FAKE_AGENT, fakeAgentReport, waitFor } from './helpers.js';

/** Alive and not a zombie (PID 1 here reaps orphans only every couple of seconds). */
async function alive(pid: number): Promise<boolean> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return status !== '' && !/^State:\s+Z/m.test(status);
}

describe('SshHostsLauncher on this machine', () => {
  const fx = launcherFixture('ssh', (o: SshHostsLauncherOptions) => new SshHostsLauncher(o), (remoteDir) => ({
    hosts: [{ shell: new LocalShell(), name: 'h1' }, { shell: new LocalShell(), name: 'h2' }],
    ensureAgent: cacheAgentBundle(FAKE_AGENT, { cacheDir: `${remoteDir}/cache` }),
    remoteDir,
    node: process.execPath,
    // no scheduler walltime for plain hosts; the scenario expects one, so set the variable here
    setup: ['export CLUSTRIX_TEST_SETUP=$((40 + 2))', 'export CLUSTRIX_WALLTIME_END=$(( ($(date +%s) + 600) * 1000 ))'],
  }));
  const make = fx.make;

  test('an agent runs with its environment, is cancelled, and its logs remain (paths with blanks, quotes, $)', async () => {
    await lifecycle({
      launcher: make(),
      remoteDir: fx.remoteDir,
      timeoutMs: 60_000,
      expectJobId: (jobId, reported) => expect(reported).toBe(jobId), // both `h1:<pid>`
    });
  }, 120_000);

  test('agents spread over the hosts; cancel kills the whole process group, after a /proc check', async () => {
    const launcher = make();
    const jobs = await launcher.launch({ connect: { url: 'ws://127.0.0.1:9', token: 't' }, agentIds: ['x1', 'x2', 'x3'] });
    expect(jobs.map((j) => j.jobId.split(':')[0])).toEqual(['h1', 'h2', 'h1']);
    const reports = await Promise.all(
      jobs.map((j) => waitFor(`agent ${j.jobId}`, async () => fakeAgentReport((await launcher.logs(j.jobId, 5)).stdout))),
    );
    const nodePids = reports.map((r) => Number(r.pid));
    const scriptPids = jobs.map((j) => Number(j.jobId.split(':')[1]));
    // the job id's pid is the script's bash, the agent is its child in the same group
    expect(nodePids).not.toEqual(scriptPids);
    await launcher.cancel([jobs[0]?.jobId ?? '']);
    await waitForState(launcher, jobs[0]?.jobId ?? '', ['cancelled'], 30_000);
    await waitFor('agent and script gone', async () => ((await alive(nodePids[0] ?? 0)) || (await alive(scriptPids[0] ?? 0)) ? undefined : true), 10_000);
    expect(await alive(nodePids[1] ?? 0)).toBe(true);
    await launcher.close();
    // The script outlives its agent a moment (its EXIT trap writes the exit status): the status
    // says running until the script is gone too.
    await waitFor('every agent and script gone', async () => ((await Promise.all([...nodePids, ...scriptPids].map(alive))).some(Boolean) ? undefined : true), 10_000);
    expect((await launcher.status(jobs.map((j) => j.jobId))).map((s) => s.state)).toEqual(['cancelled', 'cancelled', 'cancelled']);
  }, 120_000);

  test('an agent that exits by itself: its exit status, kept beside its logs', async () => {
    const launcher = make({ setup: ['export FAKE_AGENT_EXIT=5 FAKE_AGENT_LIFETIME_MS=200'] });
    const [job] = await launcher.launch({ connect: { url: 'ws://127.0.0.1:9', token: 't' }, agentIds: ['e1'] });
    const status = await waitForState(launcher, job?.jobId ?? '', ['failed', 'completed'], 60_000);
    expect(status).toEqual({ jobId: job?.jobId, state: 'failed', exitCode: 5, reason: 'exit status 5' });
  }, 120_000);

  test('no usable node: exit 3 and the message', async () => {
    await noUsableNode(make({ node: '/nonexistent/node' }), 60_000);
  }, 120_000);

  test('maxAgents: a host that is full takes no more', async () => {
    const launcher = make({ hosts: [{ shell: new LocalShell(), name: 'small', maxAgents: 1 }] });
    await launcher.launch({ connect: { url: 'ws://127.0.0.1:9', token: 't' }, agentIds: ['m1'] });
    const error = await launcher.launch({ connect: { url: 'ws://127.0.0.1:9', token: 't' }, agentIds: ['m2'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobRejectedError);
    expect((error as JobRejectedError).stderr).toBe('every host already runs its maxAgents (small: 1)');
  }, 60_000);
});
