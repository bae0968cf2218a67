// The agents' object stores under a small budget: results past objectStoreBytes spill to the
// agent's disk and read back intact; past objectSpillBytes too, the task fails with
// OBJECT_STORE_FULL. And GC: refs the program drops are freed on the cluster (FinalizationRegistry).
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, ConfigError, ObjectStoreFullError } from 'clustrix';
import { waitUntil } from '../helpers/processes.js';

v8.setFlagsFromString('--expose_gc');
const gc = vm.runInNewContext('gc') as () => void;

const filled = (n: number, k: number): Uint8Array => new Uint8Array(n).fill(k);

describe('object store budgets', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start({ agents: 1, slots: 1, objectStoreBytes: 300_000, objectSpillBytes: 1_000_000 });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('spills past the memory budget and reads the values back from disk', async () => {
    const refs = [1, 2, 3, 4].map((k) => cluster.submit(filled, 200_000, k));
    await cluster.wait(refs);
    // The first ones were spilled to make room: a task reads them back, and so does the program.
    expect(await cluster.run((...xs: Uint8Array[]) => xs.map((x) => x[0]! + x.length), ...refs)).toEqual([200_001, 200_002, 200_003, 200_004]);
    expect((await refs[0]!)[199_999]).toBe(1);
    for (const r of refs) await r.free();
  });

  it('fails with OBJECT_STORE_FULL when memory and disk are both used up', async () => {
    const refs = [1, 2, 3, 4, 5, 6, 7].map((k) => cluster.submit(filled, 200_000, k));
    const settled = await Promise.allSettled(refs);
    const full = settled.filter((s) => s.status === 'rejected');
    expect(full.length).toBeGreaterThan(0);
    expect((full[0] as PromiseRejectedResult).reason).toBeInstanceOf(ObjectStoreFullError);
    expect(String((full[0] as PromiseRejectedResult).reason)).toMatch(/objectStoreBytes/);
    for (const r of refs) await r.free();
    // Freed: there is room again.
    expect((await cluster.submit(filled, 200_000, 9))[0]).toBe(9);
  });

  it('frees the values of refs the program dropped (garbage collection)', { timeout: 30_000 }, async () => {
    const bytes = async (): Promise<number> => (await cluster.objectStats()).agents.reduce((n, a) => n + a.bytes, 0);
    const base = await bytes();
    await (async () => {
      const refs = [1, 2].map((k) => cluster.submit(filled, 100_000, k));
      await cluster.wait(refs);
    })();
    expect(await bytes()).toBeGreaterThanOrEqual(base + 200_000);
    await waitUntil(async () => {
      gc();
      return (await bytes()) <= base;
    }, { timeoutMs: 20_000, what: 'dropped refs to be freed' });
  });

  it('refuses a bad budget with a ConfigError', async () => {
    await expect(Cluster.start({ objectStoreBytes: -1 })).rejects.toBeInstanceOf(ConfigError);
  });
});
