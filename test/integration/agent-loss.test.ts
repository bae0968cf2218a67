// kill -9 of an agent in the middle of a map: its in-flight tasks run again elsewhere, every
// result arrives exactly once and correct, and the pool replaces the agent.
import { describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { isAlive, waitUntil } from '../helpers/processes.js';
import { MODES, useCluster } from '../helpers/modes.js';

describe.each(MODES)('$name', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 2, slots: 1 }, (c) => (cluster = c));

  /** About a millisecond of CPU per item. */
  const work = (i: number): number => {
    const end = performance.now() + 1;
    while (performance.now() < end) {
      // spin
    }
    return i * 7 + 1;
  };

  describe('an agent killed with SIGKILL during a map', () => {
    it('still yields every result exactly once, and correct', { timeout: 60_000 }, async () => {
      const total = 2_000;
      const items = Array.from({ length: total }, (_, i) => i);
      const seen = new Array<number>(total).fill(0);
      const victim = (await cluster.agents())[0]!;
      let killed = false;

      for await (const { index, value } of cluster.stream(work, items)) {
        expect(value).toBe(index * 7 + 1);
        seen[index]!++;
        if (!killed && seen.reduce((a, b) => a + b, 0) >= 300) {
          killed = true;
          process.kill(victim.pid, 'SIGKILL');
        }
      }

      expect(killed).toBe(true);
      expect(seen.filter((n) => n !== 1)).toEqual([]);
      await waitUntil(async () => !isAlive(victim.pid), { what: `killed agent ${victim.pid} to disappear` });
    });

    it('is replaced, and the new agent runs tasks', { timeout: 30_000 }, async () => {
      await waitUntil(async () => (await cluster.agents()).filter((a) => a.state === 'ready').length === 2, {
        timeoutMs: 15_000,
        what: 'the pool to replace the lost agent',
      });
      const pids = await cluster.broadcast(() => process.pid);
      expect(new Set(pids).size).toBe(2);
      for (const pid of pids) expect(isAlive(pid)).toBe(true);
    });

    it('keeps map results in order and correct', { timeout: 60_000 }, async () => {
      const victim = (await cluster.agents())[1]!;
      const items = Array.from({ length: 1_000 }, (_, i) => i);
      const mapping = cluster.map(work, items);
      mapping.catch(() => undefined);
      await waitUntil(async () => ((await cluster.agents()).find((a) => a.id === victim.id)?.tasksDone ?? 0) >= 100, {
        timeoutMs: 20_000,
        what: 'the victim to finish some of the map',
      });
      process.kill(victim.pid, 'SIGKILL');
      expect(await mapping).toEqual(items.map((i) => i * 7 + 1));
    });
  });
});
