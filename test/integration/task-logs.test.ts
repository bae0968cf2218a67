// A task's console output reaches onLog tagged with the agent and the task that printed it, for
// worker-thread tasks and inline tasks alike.
import { describe, expect, it } from 'vitest';
import { Cluster, type LogEntry } from 'clustrix';
import { waitUntil } from '../helpers/processes.js';
import { MODES, useCluster } from '../helpers/modes.js';

describe.each(MODES)('$name', (mode) => {
  const entries: LogEntry[] = [];
  let cluster!: Cluster;
  useCluster(mode, { agents: 2, slots: 1, onLog: (entry) => entries.push(entry) }, (c) => (cluster = c));

  const containing = (marker: string): LogEntry[] => entries.filter((e) => e.text.includes(marker));

  async function logged(marker: string, count = 1): Promise<LogEntry[]> {
    await waitUntil(async () => containing(marker).length >= count, { what: `${count} log line(s) containing ${marker}` });
    return containing(marker);
  }

  describe('console output of a worker task', () => {
    it('reaches onLog with the agent id, the task id and the stream', async () => {
      const pid = await cluster.run((tag: string) => {
        console.log('out', tag, { n: 1 });
        console.error('err', tag);
        return process.pid;
      }, 'w-1');
      const agentIds = (await cluster.agents()).map((a) => a.id);
      const agentId = (await cluster.agents()).find((a) => a.pid === pid)?.id;

      const [out] = await logged('out w-1');
      const [err] = await logged('err w-1');
      expect(out).toMatchObject({ stream: 'stdout', agentId });
      expect(out?.text).toContain('out w-1 { n: 1 }');
      expect(err).toMatchObject({ stream: 'stderr', agentId });
      expect(agentIds).toContain(out?.agentId);
      expect(typeof out?.taskId).toBe('string');
      expect(out?.taskId).toBe(err?.taskId);
    });

    it('of different tasks carries different task ids', async () => {
      await cluster.map((i: number) => console.log(`many-${i}`), [0, 1, 2, 3, 4, 5]);
      const ids = new Set<string | null>();
      for (let i = 0; i < 6; i++) {
        const [entry] = await logged(`many-${i}`);
        ids.add(entry!.taskId);
      }
      expect(ids.size).toBe(6);
      expect(ids.has(null)).toBe(false);
    });

    it('of a broadcast, while its tasks run, reaches onLog from every agent', async () => {
      // A broadcast's tasks are found through their owner entry, not their origin (which names no scope).
      await cluster.broadcast((tag: string) => console.log(`${tag} ${process.pid}`), 'bcast-1');
      const lines = await logged('bcast-1', 2);
      expect(new Set(lines.map((e) => e.agentId)).size).toBe(2);
      expect(lines.every((e) => typeof e.taskId === 'string')).toBe(true);
    });
  });

  describe('console output of an inline task', () => {
    it('reaches onLog with agent and task id, also after an await', async () => {
      const inlineTask = cluster.remote(
        async (tag: string) => {
          console.log('before', tag);
          await new Promise((r) => setTimeout(r, 10));
          console.log('after', tag);
          console.warn('warned', tag);
        },
        { inline: true },
      );
      await inlineTask('i-1');
      const [before] = await logged('before i-1');
      const [after] = await logged('after i-1');
      const [warned] = await logged('warned i-1');
      expect((await cluster.agents()).map((a) => a.id)).toContain(after?.agentId);
      expect(typeof after?.taskId).toBe('string');
      expect(after?.taskId).toBe(before?.taskId);
      expect(after).toMatchObject({ stream: 'stdout' });
      expect(warned).toMatchObject({ stream: 'stderr', taskId: after?.taskId });
    });

    it('printed after the task returned (its result is back) still carries its task id', async () => {
      const late = cluster.remote(
        (tag: string) => {
          console.log('during', tag);
          setTimeout(() => console.log('trailing', tag), 50);
        },
        { inline: true },
      );
      await late('tr-1');
      const [during] = await logged('during tr-1');
      const [trailing] = await logged('trailing tr-1');
      expect(typeof during?.taskId).toBe('string');
      expect(trailing).toMatchObject({ stream: 'stdout', taskId: during?.taskId, agentId: during?.agentId });
    });

    it('of concurrent inline tasks is attributed to the right task', async () => {
      const chatty = cluster.remote(
        async (tag: string, ms: number) => {
          await new Promise((r) => setTimeout(r, ms));
          console.log(`tick ${tag}`);
          await new Promise((r) => setTimeout(r, ms));
          console.log(`tock ${tag}`);
        },
        { inline: true },
      );
      await Promise.all([chatty('A', 30), chatty('B', 20), chatty('C', 10)]);
      for (const tag of ['A', 'B', 'C']) {
        const [tick] = await logged(`tick ${tag}`);
        const [tock] = await logged(`tock ${tag}`);
        expect(tick?.taskId).not.toBeNull();
        expect(tock?.taskId).toBe(tick?.taskId);
      }
      const taskIds = new Set(['A', 'B', 'C'].map((t) => containing(`tick ${t}`)[0]?.taskId));
      expect(taskIds.size).toBe(3);
    });
  });
});
