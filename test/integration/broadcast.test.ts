// cluster.broadcast: once on every agent, one result each, in agents() order.
import { describe, expect, it } from 'vitest';
import { Cluster, RemoteError } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';
import { logged, marker } from '../helpers/task-events.js';

describe.each(MODES)('$name', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 2, slots: 1 }, (c) => (cluster = c));

  describe('broadcast', () => {
    it('returns one result per agent, from distinct processes, in agents() order', async () => {
      const pids = await cluster.broadcast(() => process.pid);
      expect(pids).toHaveLength(2);
      expect(new Set(pids).size).toBe(2);
      expect(pids).toEqual((await cluster.agents()).map((a) => a.pid));
    });

    it('passes the arguments to every agent', async () => {
      const results = await cluster.broadcast((a: number, b: string) => `${b}${a}`, 7, 'x');
      expect(results).toEqual(['x7', 'x7']);
    });

    it('runs on every agent even when one is busy', async () => {
      const m = marker('busy');
      const started = logged(cluster, m);
      const busy = cluster.run(async (started: string) => {
        console.log(started);
        await new Promise((r) => setTimeout(r, 1_000));
        return 'done';
      }, m);
      await started; // one agent's only slot is taken
      const pids = await cluster.broadcast(() => process.pid);
      expect(new Set(pids).size).toBe(2);
      expect(await busy).toBe('done');
    });

    it('rejects with the remote error when the function throws', async () => {
      await expect(cluster.broadcast(() => {
        throw new Error('nope');
      })).rejects.toBeInstanceOf(RemoteError);
    });
  });
});
