// cluster.close(): no agent process is left behind, closing twice is fine, every task still running
// or queued settles, and every call after close rejects with ClusterClosedError. In both modes;
// what differs is what close() ends: an embedded cluster stops its agents, a connected one detaches
// (the service's pool stays until the service stops).
import { beforeAll, describe, expect, it } from 'vitest';
import { ClusterClosedError, ClustrixError, type Cluster } from 'clustrix';
import { isAlive, waitUntil } from '../helpers/processes.js';
import { MODES, type ClusterHandle } from '../helpers/modes.js';

const identity = (x: number): number => x;

const spin = (ms: number): number => {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // busy
  }
  return ms;
};

/** Resolves once an agent of `cluster` runs a task (one slot: the first call is running, the rest wait). */
async function untilBusy(cluster: Cluster): Promise<void> {
  await waitUntil(async () => ((await cluster.agents())[0]?.busy ?? 0) > 0, { timeoutMs: 10_000, what: 'the first task to run' });
}

describe.each(MODES)('close ($name)', (mode) => {
  it('leaves no agent process behind', async () => {
    const handle: ClusterHandle = await mode.start({ agents: 2, slots: 1 });
    const { cluster } = handle;
    let pids: number[] = [];
    try {
      pids = (await cluster.agents()).map((a) => a.pid);
      expect(pids).toHaveLength(2);
      for (const pid of pids) expect(isAlive(pid)).toBe(true);
      await cluster.close();
      await expect(cluster.agents()).rejects.toBeInstanceOf(ClusterClosedError);
      if (handle.service) {
        // Connected, close() detaches: the pool is the service's, and still serves it.
        for (const pid of pids) expect(isAlive(pid)).toBe(true);
        expect(handle.service.engine.agents()).toHaveLength(2);
      }
    } finally {
      await handle.close();
    }
    await waitUntil(async () => pids.every((pid) => !isAlive(pid)), { what: `agents ${pids.join(', ')} to exit` });
  });

  it('twice, or twice at once, is fine', async () => {
    const handle = await mode.start({ agents: 1, slots: 1 });
    try {
      await Promise.all([handle.cluster.close(), handle.cluster.close()]);
      await expect(handle.cluster.close()).resolves.toBeUndefined();
    } finally {
      await handle.close();
    }
  });

  it('settles every task still running or queued, instead of leaving it pending', { timeout: 30_000 }, async () => {
    const handle = await mode.start({ agents: 1, slots: 1 });
    try {
      const { cluster } = handle;
      const calls = Array.from({ length: 6 }, () => cluster.run(spin, 30_000));
      const outcomes = calls.map((p) => p.then(() => 'resolved', (e: unknown) => e));
      await untilBusy(cluster);
      const closedAt = Date.now();
      await cluster.close();
      const timeout = new Promise((r) => setTimeout(() => r('still pending 3 s after close()'), 3_000));
      const settled = await Promise.all(outcomes.map((o) => Promise.race([o, timeout])));
      // The running call spins for 30 s: only close() can have settled it this soon.
      expect(Date.now() - closedAt).toBeLessThan(10_000);
      for (const [i, outcome] of settled.entries()) {
        expect(outcome, `call ${i}`).toBeInstanceOf(ClusterClosedError);
        expect((outcome as ClustrixError).code, `call ${i}`).toBe('CLUSTER_CLOSED');
      }
    } finally {
      await handle.close();
    }
  });

  it('rejects a task queued when it closes with ClusterClosedError', { timeout: 30_000 }, async () => {
    const handle = await mode.start({ agents: 1, slots: 1 });
    try {
      const { cluster } = handle;
      const calls = Array.from({ length: 40 }, () => cluster.run(spin, 30_000));
      const outcomes = calls.map((p) => p.then(() => 'resolved', (e: unknown) => e));
      await untilBusy(cluster);
      await cluster.close();
      // The last call cannot have left the coordinator's queue: one slot, a short pipeline.
      const last = await Promise.race([outcomes.at(-1), new Promise((r) => setTimeout(() => r('still pending'), 5_000))]);
      expect(last).toBeInstanceOf(ClusterClosedError);
    } finally {
      await handle.close();
    }
  });

  describe('then calls reject with ClusterClosedError', () => {
    let handle: ClusterHandle;
    let cluster: Cluster;
    beforeAll(async () => {
      handle = await mode.start({ agents: 1, slots: 1 });
      cluster = handle.cluster;
      await cluster.close();
      // The service goes too: what is tested is this closed cluster, not the pool behind it.
      await handle.close();
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
