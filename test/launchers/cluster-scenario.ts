/**
 * The checks every real-scheduler test file runs (slurm, pbs, sge, ssh-hosts): one agent's whole
 * life, a rejected submission, and a node without Node.js. The fake agent stands in for agent.mjs.
 */
import { createHash, randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterAll, beforeAll, expect } from 'vitest';
import { cacheAgentBundle } from '../../coordinator/backends/launchers/batch/index.js';
import type { RemoteShell } from '../../coordinator/backends/launchers/remote-shell.js';
import { JobRejectedError } from '../../coordinator/backends/launchers/batch/errors.js';
import type { JobState, JobStatus, Launcher } from '../../coordinator/backends/launchers/launcher.js';
import { awkwardTempDir, FAKE_AGENT, fakeAgentReport, filesContaining, processesUnder, waitFor } from './helpers.js';

export const AGENT_ID = `agent 'one' "two" $3`;

export function newToken(): string {
  return `tok-${randomBytes(12).toString('hex')}`;
}

export async function waitForState(launcher: Launcher, jobId: string, states: readonly JobState[], timeoutMs: number): Promise<JobStatus> {
  let last: JobStatus | undefined;
  try {
    return await waitFor(
      `job ${jobId} to be ${states.join(' or ')}`,
      async () => {
        [last] = await launcher.status([jobId]);
        return last && states.includes(last.state) ? last : undefined;
      },
      timeoutMs,
      500,
    );
  } catch (error) {
    throw new Error(`${String(error)}; last status ${JSON.stringify(last)}`, { cause: error });
  }
}

export interface LifecycleOptions {
  launcher: Launcher;
  /** Directory the launcher keeps its job files in (to look for the token in them). */
  remoteDir: string;
  /** How CLUSTRIX_JOB_ID relates to the launcher's job id. */
  expectJobId?: (jobId: string, reported: string) => void;
  timeoutMs: number;
}

/** submit → pending/running → the agent reports its environment → cancel → cancelled; logs stay readable. */
export async function lifecycle({ launcher, remoteDir, expectJobId, timeoutMs }: LifecycleOptions): Promise<void> {
  const token = newToken();
  const url = `ws://127.0.0.1:9/agents?a=1&b='x'`;
  const before = Date.now();
  const [job] = await launcher.launch({ connect: { url, token }, agentIds: [AGENT_ID] });
  if (!job) throw new Error('no job');
  expect(job.agentIds).toEqual([AGENT_ID]);
  const [first] = await launcher.status([job.jobId]);
  expect(['pending', 'running']).toContain(first?.state);

  const report = await waitFor(
    'the fake agent to report',
    async () => {
      const logs = await launcher.logs(job.jobId, 50);
      return logs.stderr.includes('fake agent: stderr works') ? fakeAgentReport(logs.stdout) : undefined;
    },
    timeoutMs,
    500,
  );
  expect(report).toMatchObject({ agentId: AGENT_ID, url, tokenLength: token.length, tokenMode: '600', setupMarker: '42' });
  (expectJobId ?? ((id, reported) => expect(reported).toBe(id)))(job.jobId, String(report.jobId));
  const end = Number(report.walltimeEnd);
  expect(end).toBeGreaterThan(before + 9 * 60_000);
  expect(end).toBeLessThan(Date.now() + 10 * 60_000 + 1000);
  expect((await launcher.status([job.jobId]))[0]?.state).toBe('running');

  await launcher.cancel([job.jobId]);
  const ended = await waitForState(launcher, job.jobId, ['cancelled', 'completed', 'failed'], timeoutMs);
  expect(ended.state).toBe('cancelled');
  const logs = await launcher.logs(job.jobId, 50);
  expect(fakeAgentReport(logs.stdout)?.agentId).toBe(AGENT_ID);

  // the token is in the 0600 token file and nowhere else the launcher wrote
  const holders = await filesContaining(remoteDir, token);
  expect(holders.map((f) => path.basename(f))).toEqual(['token']);
  // nor does the launcher print it, or the digest it keeps to notice a new token
  const printed = inspect(launcher, { depth: Infinity, showHidden: true });
  expect(printed).not.toContain(token);
  expect(printed).not.toContain(createHash('sha256').update(token).digest('hex'));
}

/** A request no node can hold is refused at submission with the scheduler's words. */
export async function rejected(launcher: Launcher, words: RegExp): Promise<void> {
  const error = await launcher.launch({ connect: { url: 'ws://127.0.0.1:9', token: newToken() }, agentIds: ['too-big'] }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(JobRejectedError);
  const rejection = error as JobRejectedError;
  expect(rejection.code).toBe('JOB_REJECTED');
  expect(rejection.stderr).toMatch(words);
  expect(rejection.hint).toMatch(/^no (node|queue) can/);
  expect(rejection.message).toContain(rejection.stderr.split('\n')[0]);
}

/** A job whose `node` does not exist fails with exit 3 (as far as the scheduler reports it), and its stderr says why. */
export async function noUsableNode(launcher: Launcher, timeoutMs: number, expected: Partial<JobStatus> = { state: 'failed', exitCode: 3 }): Promise<void> {
  const [job] = await launcher.launch({ connect: { url: 'ws://127.0.0.1:9', token: newToken() }, agentIds: ['no-node'] });
  if (!job) throw new Error('no job');
  const status = await waitForState(launcher, job.jobId, ['failed', 'completed', 'cancelled'], timeoutMs);
  expect(status).toMatchObject(expected);
  const logs = await waitFor('the job stderr', async () => {
    const l = await launcher.logs(job.jobId, 10);
    return l.stderr.includes('no usable node') ? l : undefined;
  });
  expect(logs.stderr).toMatch(/clustrix: no usable node on \S+: set `node` to its path, or add `module load nodejs` to setup \(\/nonexistent\/node: not found\)/);
}

/** What every launcher test starts from: the fake agent through the real cache, this node, a setup line. */
export function baseTestOptions(shell: RemoteShell, remoteDir: string) {
  return {
    shell,
    // the real agent is built elsewhere: the fake one goes through the same content-addressed cache
    ensureAgent: cacheAgentBundle(FAKE_AGENT, { cacheDir: `${remoteDir}/cache` }),
    remoteDir,
    node: process.execPath,
    setup: ['export CLUSTRIX_TEST_SETUP=$((40 + 2))'],
  };
}

/**
 * Launchers made by one describe block, in a temp dir whose path holds blanks, quotes and `$`:
 * closed (cancelling their jobs) and removed after the block. Call inside `describe`.
 */
export function launcherFixture<O, L extends Launcher>(
  name: string,
  construct: (options: O) => L,
  defaults: (remoteDir: string) => NoInfer<O>,
): { make(overrides?: Partial<O>): L; readonly remoteDir: string } {
  const launchers: L[] = [];
  let dir = '';
  beforeAll(async () => {
    dir = await awkwardTempDir(name);
  });
  afterAll(async () => {
    await Promise.all(launchers.map((l) => l.close()));
    // close() signals the jobs and returns; a job script's EXIT trap still writes its exit file a
    // moment after (rm met a directory that was not empty): wait until nothing runs from the dir.
    await waitFor('the jobs of the remote directory to exit', async () => ((await processesUnder(dir)).length === 0 ? true : undefined));
    await rm(dir, { recursive: true, force: true });
  });
  return {
    make(overrides = {}) {
      const launcher = construct({ ...defaults(dir), ...overrides });
      launchers.push(launcher);
      return launcher;
    },
    get remoteDir() {
      return dir;
    },
  };
}
