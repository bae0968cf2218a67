// Lineage: the agent holding a task's result is SIGKILLed; the producing task runs again (within
// its retries) for whoever still needs the value, and every dependent gets exactly one result.
// With no retries left, dependents fail with OBJECT_LOST naming the ref and why.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, ObjectLostError, type TaskRef } from 'clustrix';
import { isAlive, waitUntil } from '../helpers/processes.js';

/** The agent holding `ref`'s value (results over 64 KiB stay only there). */
async function holderOf(cluster: Cluster, before: Map<string, number>): Promise<{ id: string; pid: number }> {
  const stats = await cluster.objectStats();
  const grown = stats.agents.find((a) => a.bytes > (before.get(a.agentId) ?? 0));
  if (!grown) throw new Error(`no agent holds the value: ${JSON.stringify(stats)}`);
  const agent = (await cluster.agents()).find((a) => a.id === grown.agentId)!;
  return { id: agent.id, pid: agent.pid };
}

async function bytesByAgent(cluster: Cluster): Promise<Map<string, number>> {
  return new Map((await cluster.objectStats()).agents.map((a) => [a.agentId, a.bytes]));
}

const make = (n: number): Uint8Array => new Uint8Array(n).fill(7);

describe('lineage after the holder agent is killed', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start({ agents: 2, slots: 1, retries: 2 });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('re-runs the producing task for the dependents; each gets one correct result', { timeout: 60_000 }, async () => {
    const before = await bytesByAgent(cluster);
    const value: TaskRef<Uint8Array> = cluster.submit(make, 500_000);
    await cluster.wait([value]);
    const holder = await holderOf(cluster, before);
    process.kill(holder.pid, 'SIGKILL');
    await waitUntil(async () => !(await cluster.agents()).some((a) => a.id === holder.id), { what: `agent ${holder.id} to be gone` });
    const dependents = Array.from({ length: 4 }, (_, i) => cluster.submit((v: Uint8Array, k: number) => v.length + v[0]! + k, value, i));
    expect(await Promise.all(dependents)).toEqual([500_007, 500_008, 500_009, 500_010]);
    expect((await value).length).toBe(500_000);
    await waitUntil(async () => !isAlive(holder.pid), { what: 'the killed agent to exit' });
  });
});

describe('a value nothing can make again', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start({ agents: 2, slots: 1, retries: 0 });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('fails its dependents and its awaiters with OBJECT_LOST naming the ref and why', { timeout: 60_000 }, async () => {
    const before = await bytesByAgent(cluster);
    const value = cluster.submit(make, 300_000);
    await cluster.wait([value]);
    const holder = await holderOf(cluster, before);
    process.kill(holder.pid, 'SIGKILL');
    await waitUntil(async () => !(await cluster.agents()).some((a) => a.id === holder.id), { what: `agent ${holder.id} to be gone` });
    const dependent = cluster.submit((v: Uint8Array) => v.length, value);
    const err = await dependent.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(ObjectLostError);
    expect((err as ObjectLostError).objectId).toBe(value.objectId);
    expect((err as Error).message).toContain(holder.id);
    expect((err as Error).message).toMatch(/no retries left/);
    await expect(value).rejects.toBeInstanceOf(ObjectLostError);
  });
});
