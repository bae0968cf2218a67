// A scale step is one SGE job array (qsub -t 1-n): three agents from one qsub, tasks <job>.<task>;
// scaling down deletes one task and leaves the others running.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { waitUntil } from '../helpers/processes.js';
import { asTestUser, skipCluster, ssh } from './cluster-env.js';

const task = /^(\d+)\.(\d+)$/;

/** `<job>.<task>` ids of the tasks of `job` SGE lists as running (state r). */
function runningTasks(job: string): Set<string> {
  const xml = asTestUser('qstat -xml');
  const ids = new Set<string>();
  for (const m of xml.matchAll(/<job_list\b[^>]*>([\s\S]*?)<\/job_list>/g)) {
    const body = m[1] ?? '';
    if (/<JB_job_number>(\d+)</.exec(body)?.[1] !== job || /<state>([^<]*)</.exec(body)?.[1] !== 'r') continue;
    const t = /<tasks>(\d+)</.exec(body)?.[1];
    if (t) ids.add(`${job}.${t}`);
  }
  return ids;
}

function sameSet(a: Set<unknown>, b: Set<unknown>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

describe.skipIf(skipCluster)('SGE job arrays', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start({ backend: 'sge', ssh, agents: 3, resources: { cpusPerTask: 1, time: '00:10:00' }, startTimeoutMs: 180_000 });
  }, 240_000);
  afterAll(() => cluster?.close(), 120_000);

  it('three agents come from one qsub -t 1-3, one task each', async () => {
    const ids = (await cluster.agents()).map((a) => task.exec(a.jobId ?? ''));
    expect(ids).toHaveLength(3);
    expect(new Set(ids.map((m) => m?.[1])).size).toBe(1);
    expect(new Set(ids.map((m) => m?.[2]))).toEqual(new Set(['1', '2', '3']));
    const job = ids[0]![1]!;
    // An agent can dial in before qmaster has heard from execd that its task runs (state `t`
    // until then): wait for qstat to catch up instead of reading it once.
    const agentJobs = new Set((await cluster.agents()).map((a) => a.jobId));
    await waitUntil(() => sameSet(runningTasks(job), agentJobs), { timeoutMs: 60_000, intervalMs: 500, what: `qstat to list ${[...agentJobs].join(', ')} as running` });
    expect(await cluster.map((x: number) => x * 2, [1, 2, 3])).toEqual([2, 4, 6]);
  }, 120_000);

  it('scaling down to 2 deletes one task; the other two keep running', async () => {
    const before = (await cluster.agents()).map((a) => a.jobId!);
    const job = task.exec(before[0]!)![1]!;
    await cluster.scale(2);
    await waitUntil(async () => (await cluster.agents()).length === 2, { timeoutMs: 60_000, what: 'one agent to leave' });
    const kept = new Set((await cluster.agents()).map((a) => a.jobId!));
    const [gone] = before.filter((j) => !kept.has(j));
    await waitUntil(async () => !runningTasks(job).has(gone!), { timeoutMs: 60_000, intervalMs: 1000, what: `task ${gone} to end` });
    expect(runningTasks(job)).toEqual(kept);
  }, 120_000);
});
