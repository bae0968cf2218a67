// cluster.scale(n): adds or removes agents; tasks keep running across both. In both modes (a
// connected client scales the service's pool, which every client of it sees).
import { describe, expect, it } from 'vitest';
import { Cluster, ConfigError } from 'clustrix';
import { isAlive, waitUntil } from '../helpers/processes.js';
import { MODES, useCluster } from '../helpers/modes.js';

const pidOf = (): number => process.pid;

describe.each(MODES)('scale ($name)', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 1, slots: 1 }, (c) => (cluster = c));

  it('up adds connected agents that take work', { timeout: 30_000 }, async () => {
    expect(await cluster.agents()).toHaveLength(1);
    await cluster.scale(3);
    expect(await cluster.agents()).toHaveLength(3);
    const pids = await cluster.broadcast(pidOf);
    expect(new Set(pids).size).toBe(3);
  });

  it('down removes agents, whose processes exit', { timeout: 30_000 }, async () => {
    const before = (await cluster.agents()).map((a) => a.pid);
    await cluster.scale(1);
    expect(await cluster.agents()).toHaveLength(1);
    const kept = (await cluster.agents())[0]!.pid;
    const removed = before.filter((pid) => pid !== kept);
    expect(removed).toHaveLength(2);
    await waitUntil(async () => removed.every((pid) => !isAlive(pid)), { what: `removed agents ${removed.join(', ')} to exit` });
  });

  it('down leaves a cluster that still runs tasks', async () => {
    expect(await cluster.map((x: number) => x + 1, [1, 2, 3])).toEqual([2, 3, 4]);
    expect(await cluster.broadcast(pidOf)).toEqual([(await cluster.agents())[0]!.pid]);
  });

  it('down while tasks run lets them finish', { timeout: 30_000 }, async () => {
    await cluster.scale(2);
    const before = (await cluster.agents()).map((a) => a.pid);
    expect(before).toHaveLength(2);
    // Each task says which agent ran it. retries: 0, so a task lost with a removed agent fails the
    // map instead of quietly running again on the agent that stays.
    const sleepy = async (ms: number): Promise<number> => {
      await new Promise((r) => setTimeout(r, ms));
      return process.pid;
    };
    const running = cluster.map(sleepy, [1_500, 1_500, 1_500, 1_500], { retries: 0 });
    running.catch(() => undefined);
    await waitUntil(async () => (await cluster.agents()).every((a) => a.busy > 0), { timeoutMs: 10_000, what: 'both agents to run a task' });
    await cluster.scale(1);
    const kept = (await cluster.agents()).map((a) => a.pid);
    expect(kept).toHaveLength(1);
    const removed = before.find((pid) => pid !== kept[0]);
    const ranOn = await running;
    // The removed agent was running a task when it was told to go: that task finished there.
    expect(ranOn).toContain(removed);
    await waitUntil(async () => !isAlive(removed!), { what: `removed agent ${removed} to exit` });
  });

  it('refuses a negative or fractional size', async () => {
    await expect(cluster.scale(-1)).rejects.toThrow(new ConfigError('scale(n): expected a non-negative integer, got -1'));
    await expect(cluster.scale(1.5)).rejects.toThrow(new ConfigError('scale(n): expected a non-negative integer, got 1.5'));
  });
});
