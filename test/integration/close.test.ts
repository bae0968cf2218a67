// cluster.close(): no agent process is left behind, closing twice is fine, and every call after
// close rejects with ClusterClosedError.
import { beforeAll, describe, expect, it } from 'vitest';
import { ClusterClosedError, Cluster, ClustrixError } from 'clustrix';
import { isAlive, waitUntil } from '../helpers/processes.js';

const identity = (x: number): number => x;

describe('close', () => {
  it('leaves no agent process behind', async () => {
    const cluster = await Cluster.start({ agents: 2, slots: 1 });
    let pids: number[] = [];
    try {
      pids = (await cluster.agents()).map((a) => a.pid);
      expect(pids).toHaveLength(2);
      for (const pid of pids) expect(isAlive(pid)).toBe(true);
    } finally {
      await cluster.close();
    }
    await waitUntil(async () => pids.every((pid) => !isAlive(pid)), { what: `agents ${pids.join(', ')} to exit` });
    await expect(cluster.agents()).rejects.toBeInstanceOf(ClusterClosedError);
  });

  it('twice, or twice at once, is fine', async () => {
    const cluster = await Cluster.start({ agents: 1, slots: 1 });
    await Promise.all([cluster.close(), cluster.close()]);
    await expect(cluster.close()).resolves.toBeUndefined();
  });

  it('settles every task still running or queued, instead of leaving it pending', { timeout: 20_000 }, async () => {
    const cluster = await Cluster.start({ agents: 1, slots: 1 });
    const spin = (ms: number): number => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        // busy
      }
      return ms;
    };
    // One slot: the first spins on the agent, the rest wait (on the agent or in the coordinator).
    const calls = Array.from({ length: 6 }, () => cluster.run(spin, 30_000));
    const outcomes = calls.map((p) => p.then(() => 'resolved', (e: unknown) => e));
    await new Promise((r) => setTimeout(r, 300));
    await cluster.close();
    const timeout = new Promise((r) => setTimeout(() => r('still pending 3 s after close()'), 3_000));
    const settled = await Promise.all(outcomes.map((o) => Promise.race([o, timeout])));
    for (const [i, outcome] of settled.entries()) {
      expect(outcome, `call ${i}`).toBeInstanceOf(ClustrixError);
      expect(['CLUSTER_CLOSED', 'CANCELLED', 'AGENT_LOST'], `call ${i}`).toContain((outcome as ClustrixError).code);
    }
  });

  it('rejects a task queued when it closes with ClusterClosedError', { timeout: 20_000 }, async () => {
    const cluster = await Cluster.start({ agents: 1, slots: 1 });
    const spin = (ms: number): number => {
      const end = Date.now() + ms;
      while (Date.now() < end) {
        // busy
      }
      return ms;
    };
    const calls = Array.from({ length: 40 }, () => cluster.run(spin, 30_000));
    const outcomes = calls.map((p) => p.then(() => 'resolved', (e: unknown) => e));
    await new Promise((r) => setTimeout(r, 300));
    await cluster.close();
    // The last call cannot have left the coordinator's queue: one slot, a short pipeline.
    const last = await Promise.race([outcomes.at(-1), new Promise((r) => setTimeout(() => r('still pending'), 5_000))]);
    expect(last).toBeInstanceOf(ClusterClosedError);
  });

  describe('then calls reject with ClusterClosedError', () => {
    let cluster: Cluster;
    beforeAll(async () => {
      cluster = await Cluster.start({ agents: 1, slots: 1 });
      await cluster.close();
    });

    async function expectClosed(call: () => Promise<unknown>): Promise<void> {
      let err: unknown;
      try {
        await call();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ClusterClosedError);
      expect((err as ClusterClosedError).code).toBe('CLUSTER_CLOSED');
    }

    it('run', () => expectClosed(() => cluster.run(identity, 1)));
    it('remote', () => expectClosed(() => cluster.remote(identity)(1)));
    it('map', () => expectClosed(() => cluster.map(identity, [1, 2])));
    it('stream', () =>
      expectClosed(async () => {
        for await (const _ of cluster.stream(identity, [1])) {
          // not reached
        }
      }));
    it('broadcast', () => expectClosed(() => cluster.broadcast(identity, 1)));
    it('scale', () => expectClosed(() => cluster.scale(2)));
    it('agents', () => expectClosed(() => cluster.agents()));
    it('pendingAgents', () => expectClosed(() => cluster.pendingAgents()));
    it('actor', () => expectClosed(() => cluster.actor(class A {})));
    it('getActor', () => expectClosed(() => cluster.getActor('a')));
    it('actors', () => expectClosed(() => cluster.actors()));
  });
});
