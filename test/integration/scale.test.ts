// cluster.scale(n): adds or removes agents; tasks keep running across both.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, ConfigError } from 'clustrix';
import { isAlive, waitUntil } from '../helpers/processes.js';

let cluster: Cluster;
beforeAll(async () => {
  cluster = await Cluster.start({ agents: 1, slots: 1 });
});
afterAll(async () => {
  await cluster?.close();
});

const pidOf = (): number => process.pid;

describe('scale', () => {
  it('up adds connected agents that take work', { timeout: 30_000 }, async () => {
    expect((await cluster.agents())).toHaveLength(1);
    await cluster.scale(3);
    expect((await cluster.agents())).toHaveLength(3);
    const pids = await cluster.broadcast(pidOf);
    expect(new Set(pids).size).toBe(3);
  });

  it('down removes agents, whose processes exit', { timeout: 30_000 }, async () => {
    const before = (await cluster.agents()).map((a) => a.pid);
    await cluster.scale(1);
    expect((await cluster.agents())).toHaveLength(1);
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
    const sleepy = async (ms: number): Promise<number> => {
      await new Promise((r) => setTimeout(r, ms));
      return ms;
    };
    const running = cluster.map(sleepy, [300, 300, 300, 300], { inline: true });
    await new Promise((r) => setTimeout(r, 50));
    await cluster.scale(1);
    expect(await running).toEqual([300, 300, 300, 300]);
    expect((await cluster.agents())).toHaveLength(1);
  });

  it('refuses a negative or fractional size', async () => {
    await expect(cluster.scale(-1)).rejects.toThrow(new ConfigError('scale(n): expected a non-negative integer, got -1'));
    await expect(cluster.scale(1.5)).rejects.toThrow(new ConfigError('scale(n): expected a non-negative integer, got 1.5'));
  });
});
