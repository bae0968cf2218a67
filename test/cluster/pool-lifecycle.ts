import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, type ClusterOptions } from 'clustrix';
import { waitUntil } from '../helpers/processes.js';
import { asTestUser } from './cluster-env.js';

export interface BackendCase {
  name: string;
  options: ClusterOptions;
  /** Shell command (run as testuser) that kills a job by id, as an admin or the user would. */
  kill: (jobId: string) => string;
  /** Shell command printing those of the given job ids still queued or running (nothing: none). */
  alive: (jobIds: readonly string[]) => string;
  /** Options of a request the scheduler must reject. */
  rejected?: ClusterOptions;
}

/** Where a task ran: host, the job id of its agent, and the agent's pid. */
const whereAmI = () => ({
  host: process.env.HOSTNAME ?? null,
  job: process.env.CLUSTRIX_JOB_ID ?? process.env.SLURM_JOB_ID ?? process.env.JOB_ID ?? null,
  pid: process.pid,
});

/**
 * The cluster tier for one backend: a pool of 2 agents through SSH into the real scheduler, a map
 * and a broadcast that say where they ran, a job killed behind the pool's back and replaced, a
 * request the scheduler rejects, and close() leaving nothing in the queue.
 */
export function describeBackend(c: BackendCase): void {
  describe(`${c.name} backend through SSH (real scheduler)`, () => {
    let cluster: Cluster;
    // Every job the pool ran, so close() can be checked against exactly these (other test files
    // share the queue).
    const jobs = new Set<string>();
    const noteJobs = async (): Promise<void> => {
      for (const a of (await cluster.agents())) if (a.jobId) jobs.add(a.jobId);
    };
    beforeAll(async () => {
      cluster = await Cluster.start({ agents: 2, startTimeoutMs: 180_000, ...c.options });
      await noteJobs();
    }, 240_000);
    afterAll(async () => {
      await cluster?.close();
    }, 120_000);

    it('runs a map and a broadcast on the agents of two jobs', async () => {
      const agents = (await cluster.agents());
      expect(agents).toHaveLength(2);
      const jobs = new Set(agents.map((a) => a.jobId));
      expect(jobs.size).toBe(2);
      const squares = await cluster.map((x: number) => x * x, Array.from({ length: 50 }, (_, i) => i));
      expect(squares).toEqual(Array.from({ length: 50 }, (_, i) => i * i));
      const where = await cluster.broadcast(whereAmI);
      expect(where).toHaveLength(2);
      expect(new Set(where.map((w) => w.job))).toEqual(new Set(agents.map((a) => a.jobId)));
      expect(new Set(where.map((w) => w.pid))).toEqual(new Set(agents.map((a) => a.pid)));
    }, 120_000);

    it('notices a job killed behind its back and replaces it', async () => {
      const victim = (await cluster.agents())[0]!;
      asTestUser(c.kill(victim.jobId!));
      await waitUntil(async () => !(await cluster.agents()).some((a) => a.id === victim.id), { timeoutMs: 60_000, what: 'the killed agent to be noticed' });
      await waitUntil(async () => (await cluster.agents()).length === 2, { timeoutMs: 180_000, intervalMs: 250, what: 'a replacement agent' });
      expect((await cluster.agents()).map((a) => a.jobId)).not.toContain(victim.jobId);
      await noteJobs();
      expect(await cluster.run((a: number, b: number) => a + b, 2, 3)).toBe(5);
    }, 300_000);

    if (c.rejected) {
      const rejected = c.rejected;
      it('fails start() with the scheduler\'s reason when it rejects the request', async () => {
        const err = await Cluster.start({ agents: 1, startTimeoutMs: 60_000, ...c.options, ...rejected }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'JOB_REJECTED' });
      }, 120_000);
    }

    it('close() cancels every job it submitted', async () => {
      await noteJobs();
      expect(jobs.size).toBeGreaterThanOrEqual(3);
      await cluster.close();
      await waitUntil(async () => asTestUser(c.alive([...jobs])).trim() === '', { timeoutMs: 60_000, intervalMs: 500, what: `jobs ${[...jobs].join(', ')} to leave the queue` });
    }, 120_000);
  });
}
