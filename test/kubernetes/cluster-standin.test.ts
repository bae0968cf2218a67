/**
 * `Cluster.start({ backend: 'kubernetes' })` end to end through the PUBLIC API (the built package),
 * against a STAND-IN for the Kubernetes API server (test/kubernetes/standin/), not a live cluster.
 * The stand-in runs each pod as a local process of the REAL agent bundle (dist/bundle/agent.cjs)
 * with the pod's environment (address and token resolved from the Job's Secret), so the whole path
 * runs: Jobs and Secrets are created, agents connect back, tasks run on them, a pod that fails is
 * replaced, scale() adds and deletes Jobs, close() deletes everything, and a Job whose pods cannot
 * run fails Cluster.start with Kubernetes' reason.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, JobStartError, type ClusterOptions } from 'clustrix';
import { isAlive } from '../helpers/processes.js';
import type { Obj } from './standin/store.js';
import { startStandin, waitFor, type Standin } from './standin/harness.js';

const bundle = fileURLToPath(new URL('../../dist/bundle/agent.cjs', import.meta.url));

describe.runIf(existsSync(bundle))('Cluster.start({ backend: kubernetes }) against a stand-in API server running the real agent (not a live cluster)', () => {
  let standin: Standin;
  const clusters: Cluster[] = [];

  beforeAll(async () => {
    standin = await startStandin({ entrypoint: [process.execPath, bundle] });
  });
  afterAll(async () => {
    await Promise.allSettled(clusters.map((c) => c.close()));
    await standin?.close();
  });

  const options = (kubernetes: NonNullable<ClusterOptions['kubernetes']> = {}): ClusterOptions => ({
    backend: 'kubernetes',
    agents: 2,
    slots: 1,
    host: '127.0.0.1',
    advertiseHost: '127.0.0.1',
    port: 0,
    startTimeoutMs: 20_000,
    kubernetes: { kubeconfig: standin.kubeconfig, context: 'standin', namespace: 'clustrix', image: 'ghcr.io/clustrix/agent:test', cpu: '250m', memory: '128Mi', ...kubernetes },
  });
  const start = async (o: ClusterOptions): Promise<Cluster> => {
    const c = await Cluster.start(o);
    clusters.push(c);
    return c;
  };
  /** The stand-in's objects labelled with one cluster name (the launcher's `clustrix.dev/cluster`). */
  const stored = (resource: 'jobs' | 'pods' | 'secrets', name: string): Obj[] =>
    standin.api.store.list(resource, 'clustrix', `clustrix.dev/cluster=${name}`);
  /** Pid of each running pod process of the cluster, by pod name. */
  const podProcesses = (name: string): Map<string, number> => {
    const pods = new Set(stored('pods', name).map((p) => p.metadata.name));
    return new Map(standin.api.node.processes().filter((p) => pods.has(p.pod)).map((p) => [p.pod, p.pid]));
  };
  const podStatus = (pod: Obj) => pod.status as { phase?: string; containerStatuses?: { restartCount?: number }[] };
  const sorted = (xs: Iterable<number>): number[] => [...xs].sort((a, b) => a - b);

  it('starts agents as pods, runs tasks, replaces a failed pod, scales, and close() deletes everything', async () => {
    const cluster = await start(options());

    // --- create: one Indexed Job of two pods and its Secret; both agents connected back
    const agents = (await cluster.agents());
    expect(agents).toHaveLength(2);
    const [job] = standin.api.store.listAll('jobs').filter((j) => j.metadata.name === agents[0]?.jobId);
    const name = job?.metadata.labels?.['clustrix.dev/cluster'] ?? '?';
    const firstJob = `${name}-1`;
    expect(job?.metadata.name).toBe(firstJob);
    expect(stored('jobs', name).map((j) => j.metadata.name)).toEqual([firstJob]);
    expect(stored('secrets', name).map((j) => j.metadata.name)).toEqual([firstJob]);
    for (const a of agents) expect(a.jobId).toBe(firstJob);

    // --- tasks run; broadcast answers from the two pod processes the stand-in runs
    expect(await cluster.map((x: number) => x * x, [1, 2, 3, 4, 5, 6])).toEqual([1, 4, 9, 16, 25, 36]);
    const pids = await cluster.broadcast(() => process.pid);
    expect(new Set(pids).size).toBe(2);
    expect(sorted(pids)).toEqual(sorted(podProcesses(name).values()));
    expect(sorted(pids)).toEqual(sorted(agents.map((a) => a.pid)));
    // Each agent runs with its pod's environment: the pod hostname and completion index the Job gave it.
    const envs = await cluster.broadcast(() => `${process.env.HOSTNAME} ${process.env.JOB_COMPLETION_INDEX}`);
    expect(envs.sort()).toEqual([`${firstJob}-0 0`, `${firstJob}-1 1`]);

    // --- a pod fails: its process dies (SIGKILL, as the OOM killer would)
    const victim = agents[0]!;
    const victimPod = [...podProcesses(name)].find(([, pid]) => pid === victim.pid)?.[0] ?? '?';
    process.kill(victim.pid, 'SIGKILL');
    await waitFor('the pool to notice the agent is lost', async () => !(await cluster.agents()).some((a) => a.id === victim.id));
    await waitFor('a replacement agent from a new Job', async () => (await cluster.agents()).some((a) => a.jobId === `${name}-2`), 30_000);
    expect((await cluster.agents())).toHaveLength(2);
    expect(stored('jobs', name).map((j) => j.metadata.name).sort()).toEqual([firstJob, `${name}-2`]);
    // Kubernetes restarts the crashed container in place (restartPolicy OnFailure) under the same
    // agent id; the pool has replaced it already, so it sends it away and its pod completes (exit 0).
    const killed = () => stored('pods', name).find((p) => p.metadata.name === victimPod);
    await waitFor('the restarted agent to be sent away', () => podStatus(killed() ?? ({} as Obj)).phase === 'Succeeded', 15_000);
    expect(podStatus(killed()!).containerStatuses?.[0]?.restartCount).toBe(1);
    expect((await cluster.agents())).toHaveLength(2);
    expect((await cluster.agents()).map((a) => a.id)).not.toContain(victim.id);
    const afterLoss = await cluster.broadcast(() => process.pid);
    expect(sorted(afterLoss)).toEqual(sorted(podProcesses(name).values()));
    expect(await cluster.map((x: number) => x + 1, [7, 8, 9])).toEqual([8, 9, 10]);

    // --- scale up: one more Job; scale down: the Jobs of the agents removed are deleted
    await cluster.scale(3);
    expect((await cluster.agents())).toHaveLength(3);
    expect((await cluster.agents()).map((a) => a.jobId)).toContain(`${name}-3`);
    const three = await cluster.broadcast(() => process.pid);
    expect(new Set(three).size).toBe(3);
    await cluster.scale(1);
    expect((await cluster.agents())).toHaveLength(1);
    const [survivor] = (await cluster.agents());
    await waitFor('one pod process left', () => podProcesses(name).size === 1, 15_000);
    expect([...podProcesses(name).values()]).toEqual([survivor?.pid]);
    await waitFor('the Jobs of the removed agents to be deleted', () =>
      stored('jobs', name).map((j) => j.metadata.name).join() === survivor?.jobId, 15_000);
    expect(await cluster.map((x: number) => -x, [1, 2, 3])).toEqual([-1, -2, -3]);
    expect((await cluster.agents())).toHaveLength(1);

    // --- close: no Job, pod or Secret of this cluster remains, and every pod process is gone
    const allPids = [...new Set([...pids, ...afterLoss, ...three])];
    await cluster.close();
    await waitFor('every Job, pod and Secret of the cluster to be deleted', () =>
      stored('jobs', name).length + stored('pods', name).length + stored('secrets', name).length === 0, 20_000);
    await waitFor('every pod process to exit', () => allPids.every((pid) => !isAlive(pid)), 10_000);
    expect(podProcesses(name).size).toBe(0);
  });

  it.each([
    { what: 'the image cannot be pulled', kubernetes: { image: 'ghcr.io/clustrix/does-not-exist:0.0.0' }, reason: /(ErrImagePull|ImagePullBackOff) \(pod /, event: 'Failed to pull image "ghcr.io/clustrix/does-not-exist:0.0.0"', hint: /option 'image'/ },
    { what: 'no node has the CPU', kubernetes: { cpu: 64 }, reason: /Unschedulable \(pod /, event: '0/1 nodes are available: 1 Insufficient cpu', hint: /lower 'cpu'/ },
  ])('rejects Cluster.start with JOB_FAILED_TO_START naming the reason when $what, and leaves nothing behind', async ({ kubernetes, reason, event, hint }) => {
    const started = Date.now();
    const err = await start(options({ ...kubernetes, stuckTimeoutMs: 300 })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobStartError);
    const e = err as JobStartError;
    expect(e.code).toBe('JOB_FAILED_TO_START');
    expect(e.message).toMatch(/^Kubernetes Job [a-z0-9-]+-1 failed to start: /);
    expect(e.message.split('\n')[0]).toMatch(reason);
    expect(e.output).toContain(event);
    expect(e.hint).toMatch(hint);
    expect(Date.now() - started).toBeLessThan(15_000);
    const name = e.jobId.replace(/-1$/, '');
    await waitFor('the failed Job, its pods and Secret to be deleted', () =>
      stored('jobs', name).length + stored('pods', name).length + stored('secrets', name).length === 0);
  });

  it('on startTimeoutMs, while a pod still waits for a node, says so with the scheduler\'s events', async () => {
    // stuckTimeoutMs (60 s by default) has not passed: Kubernetes may still place the pod; clustrix stops waiting first.
    const err = await start({ ...options({ cpu: 64 }), agents: 1, startTimeoutMs: 1_500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobStartError);
    const e = err as JobStartError;
    expect(e.message).toMatch(/^agents did not connect within 1500 ms\n {2}job [a-z0-9-]+-1, state pending, not connected\n/);
    expect(e.output).toMatch(/Warning FailedScheduling pod\/[a-z0-9-]+-1-0-\w+: 0\/1 nodes are available: 1 Insufficient cpu\./);
    const name = e.jobId.replace(/-1$/, '');
    await waitFor('the Job, its pod and Secret to be deleted', () =>
      stored('jobs', name).length + stored('pods', name).length + stored('secrets', name).length === 0);
  });
});
