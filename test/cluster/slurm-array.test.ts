// A scale step is one SLURM job array on the four-node test cluster: 8 agents from one sbatch,
// spread over the nodes; scaling down cancels single elements; the walltime drain retires one
// element and leaves its siblings running.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { waitUntil } from '../helpers/processes.js';
import { asTestUser, loginSsh, skipCluster } from './cluster-env.js';

const element = /^(\d+)_(\d+)$/;

/** `<element id> <state>` of every element of `arrayId` SLURM still lists. */
function queued(arrayId: string): Map<string, string> {
  const out = asTestUser(`squeue -h -r -j ${arrayId} -o '%i %T' 2>/dev/null || true`);
  return new Map(out.split('\n').filter(Boolean).map((l) => l.trim().split(' ') as [string, string]));
}

/** The state scontrol keeps for an element that ended (MinJobAge: 300 s). */
function endedState(elementId: string): string | undefined {
  return /JobState=(\S+)/.exec(asTestUser(`scontrol show job -o ${elementId} 2>/dev/null || true`))?.[1];
}

describe.skipIf(skipCluster)('SLURM job arrays', () => {
  describe('8 agents', () => {
    let cluster: Cluster;
    // unique, so the queue can be searched for this cluster's jobs (other tests share it)
    const jobName = `arr${randomBytes(3).toString('hex')}`;
    beforeAll(async () => {
      cluster = await Cluster.start({
        backend: 'slurm',
        ssh: loginSsh,
        agents: 8,
        jobName,
        resources: { cpusPerTask: 1, time: '00:10:00' },
        startTimeoutMs: 180_000,
      });
    }, 240_000);
    afterAll(() => cluster?.close(), 120_000);

    it('come from one array submission (one sbatch) and run on at least two nodes', async () => {
      const agents = (await cluster.agents());
      expect(agents).toHaveLength(8);
      const ids = agents.map((a) => element.exec(a.jobId ?? ''));
      expect(ids.every(Boolean)).toBe(true);
      const arrays = new Set(ids.map((m) => m?.[1]));
      expect(arrays.size).toBe(1);
      expect(new Set(ids.map((m) => m?.[2]))).toEqual(new Set(['0', '1', '2', '3', '4', '5', '6', '7']));
      // SLURM's own view: every job of this cluster in the queue belongs to that one array
      const listed = asTestUser(`squeue -h -r -u $USER -o '%F %K %j'`).split('\n').filter((l) => l.includes(` ${jobName}-`));
      expect(listed).toHaveLength(8);
      expect(new Set(listed.map((l) => l.split(' ')[0]))).toEqual(arrays);
      const hosts = new Set(agents.map((a) => a.host));
      expect(hosts.size).toBeGreaterThanOrEqual(2);
      for (const h of hosts) expect(h).toMatch(/^cx-node[1-4]$/);
      expect(await cluster.map((x: number) => x + 1, Array.from({ length: 40 }, (_, i) => i))).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    }, 120_000);

    it('scaling down to 6 cancels two single elements; the other six keep running', async () => {
      const before = (await cluster.agents()).map((a) => a.jobId!);
      const arrayId = element.exec(before[0]!)![1]!;
      await cluster.scale(6);
      await waitUntil(async () => (await cluster.agents()).length === 6, { timeoutMs: 60_000, what: 'two agents to leave' });
      const kept = new Set((await cluster.agents()).map((a) => a.jobId!));
      const gone = before.filter((j) => !kept.has(j));
      expect(gone).toHaveLength(2);
      await waitUntil(async () => gone.every((j) => !queued(arrayId).has(j)), { timeoutMs: 60_000, intervalMs: 500, what: `elements ${gone.join(', ')} to leave the queue` });
      const left = queued(arrayId);
      for (const j of kept) expect(left.get(j)).toBe('RUNNING');
      expect(await cluster.run((a: number, b: number) => a * b, 6, 7)).toBe(42);
    }, 120_000);
  });

  describe('walltime drain', () => {
    let cluster: Cluster;
    const drainMarker = `/tmp/clustrix-drain-${randomBytes(4).toString('hex')}`;
    beforeAll(async () => {
      cluster = await Cluster.start({
        backend: 'slurm',
        ssh: loginSsh,
        agents: 2,
        resources: { cpusPerTask: 1, time: '00:10:00' },
        // Element 0 of the first array only (the nodes share /tmp: the first mkdir wins; its
        // replacement is element 0 of an array too): its walltime ends in 150 s, so its agent asks
        // to be drained ~30 s in (the agent asks 120 s before the end); element 1 keeps the job's
        // 10 minutes.
        setup: [`if [ "\${SLURM_ARRAY_TASK_ID:-}" = 0 ] && mkdir ${drainMarker} 2>/dev/null; then export CLUSTRIX_WALLTIME_END=$(( ($(date +%s) + 150) * 1000 )); fi`],
        startTimeoutMs: 120_000,
      });
    }, 180_000);
    afterAll(async () => {
      await cluster?.close();
      asTestUser(`rmdir ${drainMarker} 2>/dev/null || true`);
    }, 60_000);

    it('retires only the element whose walltime ends: that element ends, its sibling runs on', async () => {
      const agents = new Map((await cluster.agents()).map((a) => [element.exec(a.jobId ?? '')?.[2], a]));
      const [ending, staying] = [agents.get('0')!, agents.get('1')!];
      expect(ending.jobId).toMatch(element);
      // The pool replaces it, drains it, shuts it down and cancels its job id, the element's: the
      // element ends (COMPLETED when the agent exits before scancel lands, else CANCELLED). Had
      // the whole array been cancelled, the sibling would have ended too.
      await waitUntil(async () => !(await cluster.agents()).some((a) => a.id === ending.id), { timeoutMs: 90_000, what: 'the ending agent to be retired' });
      await waitUntil(async () => ['COMPLETED', 'CANCELLED'].includes(endedState(ending.jobId!) ?? ''), { timeoutMs: 60_000, intervalMs: 500, what: `${ending.jobId} to end` });
      await waitUntil(async () => (await cluster.agents()).length === 2, { timeoutMs: 120_000, what: 'its replacement' });
      expect((await cluster.agents()).map((a) => a.id)).toContain(staying.id);
      expect(queued(element.exec(staying.jobId!)![1]!).get(staying.jobId!)).toBe('RUNNING');
    }, 300_000);
  });
});
