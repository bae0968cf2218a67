// An agent told to stop (shutdown from close(), SIGTERM) exits promptly by itself, also while a
// task is running on it. The agent here is started by hand, as on a node without a local
// launcher, so no launcher SIGKILL can hide an agent that hangs.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { agentBundle, coordinatorUrl, isAlive, waitUntil } from '../helpers/processes.js';
import { logged, marker } from '../helpers/task-events.js';

const TOKEN = 'agent-exit-test-token-0123456789';
const clusters: Cluster[] = [];
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
afterAll(async () => {
  await Promise.all(clusters.map((c) => c.close()));
});

/** Says it started on this agent (`<started> <pid>`), then spins. */
const spinForever = (started: string): never => {
  console.log(`${started} ${process.pid}`);
  while (true) {
    // keeps a worker thread busy until it is terminated
  }
};

/** A cluster with one launched agent, plus one agent this test starts itself (by pid). */
async function clusterWithOwnAgent(): Promise<{ cluster: Cluster; agent: ChildProcess; exit: Promise<{ code: number | null; signal: string | null }> }> {
  const cluster = await Cluster.start({ agents: 1, slots: 1, token: TOKEN });
  clusters.push(cluster);
  const agent = spawn(process.execPath, [agentBundle], {
    env: { PATH: process.env.PATH ?? '', CLUSTRIX_URL: await coordinatorUrl(cluster), CLUSTRIX_TOKEN: TOKEN, CLUSTRIX_SLOTS: '1' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(agent);
  const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) => agent.once('exit', (code, signal) => resolve({ code, signal })));
  await waitUntil(async () => (await cluster.agents()).some((a) => a.pid === agent.pid), { timeoutMs: 15_000, what: 'the hand-started agent to connect' });
  return { cluster, agent, exit };
}

/** Resolves with the exit, or with 'still running' after `ms`. */
function exitWithin<T>(exit: Promise<T>, ms: number): Promise<T | 'still running'> {
  return Promise.race([exit, new Promise<'still running'>((r) => setTimeout(() => r('still running'), ms))]);
}

describe('an agent', () => {
  it('exits with code 0 after close() when idle', { timeout: 30_000 }, async () => {
    const { cluster, exit } = await clusterWithOwnAgent();
    await cluster.close();
    expect(await exitWithin(exit, 5_000)).toEqual({ code: 0, signal: null });
  });

  it('exits with code 0 after close() while a task runs on it', { timeout: 30_000 }, async () => {
    const { cluster, agent, exit } = await clusterWithOwnAgent();
    const m = marker('spinning');
    const started = logged(cluster, `${m} ${agent.pid}`);
    cluster.broadcast(spinForever, m).catch(() => undefined);
    await started; // the task runs on the hand-started agent
    await cluster.close();
    expect(await exitWithin(exit, 5_000)).toEqual({ code: 0, signal: null });
  });

  it('exits with code 0 on SIGTERM while a task runs on it', { timeout: 30_000 }, async () => {
    const { cluster, agent, exit } = await clusterWithOwnAgent();
    const m = marker('spinning');
    const started = logged(cluster, `${m} ${agent.pid}`);
    cluster.broadcast(spinForever, m).catch(() => undefined);
    await started; // the task runs on the hand-started agent
    agent.kill('SIGTERM');
    expect(await exitWithin(exit, 5_000)).toEqual({ code: 0, signal: null });
    expect(isAlive(agent.pid!)).toBe(false);
  });
});
