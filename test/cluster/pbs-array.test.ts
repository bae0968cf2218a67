// A scale step through the PBS-syntax qsub (Debian's slurm-torque wrappers over the four-node
// SLURM): one qsub -t 0-2 is one SLURM array whose elements start the three agents, each with
// the id of its index. The wrappers cannot address an element (their qdel cancels the whole array
// for `123[4]`), so the launcher tracks the array as one job: every agent reports the array's id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { waitUntil } from '../helpers/processes.js';
import { asTestUser, loginSsh, pbsBinDir, skipCluster } from './cluster-env.js';

describe.skipIf(skipCluster)('PBS job arrays (slurm-torque wrappers)', () => {
  let cluster: Cluster;
  let arrayId = '';
  beforeAll(async () => {
    cluster = await Cluster.start({ backend: 'pbs', ssh: loginSsh, binDir: pbsBinDir, agents: 3, resources: { cpusPerTask: 1, time: '00:10:00' }, startTimeoutMs: 180_000 });
  }, 240_000);
  afterAll(() => cluster?.close(), 120_000);

  it('three agents come from one qsub: one SLURM array of three elements, on at least two nodes', async () => {
    const agents = (await cluster.agents());
    expect(agents).toHaveLength(3);
    const jobs = new Set(agents.map((a) => a.jobId));
    expect(jobs.size).toBe(1);
    arrayId = [...jobs][0]!;
    expect(arrayId).toMatch(/^\d+$/);
    const elements = asTestUser(`squeue -h -r -j ${arrayId} -o '%i %T'`).trim().split('\n').sort();
    expect(elements).toEqual([`${arrayId}_0 RUNNING`, `${arrayId}_1 RUNNING`, `${arrayId}_2 RUNNING`]);
    expect(new Set(agents.map((a) => a.host)).size).toBeGreaterThanOrEqual(2);
    expect(await cluster.run((a: number, b: number) => a - b, 9, 4)).toBe(5);
  }, 120_000);

  it('close() cancels the array: no element is left', async () => {
    await cluster.close();
    await waitUntil(async () => asTestUser(`squeue -h -r -j ${arrayId} -o %i 2>/dev/null || true`).trim() === '', {
      timeoutMs: 60_000,
      intervalMs: 500,
      what: `array ${arrayId} to leave the queue`,
    });
  }, 120_000);
});
