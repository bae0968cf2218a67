// The agent pool (coordinator/engine/pool.ts) over a fake launcher and fake agent sockets, on fake
// timers: it replaces a lost agent, drains an agent it scales away (no task cut off), caps
// replacements per minute and backs off, and fails waiting work with POOL_UNAVAILABLE after
// recoveryTimeoutMs instead of hanging, while it keeps trying.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TaskRecord } from '../../coordinator/engine/task.js';
import { ClusterClosedError, PoolUnavailableError } from '../../coordinator/errors/errors.js';
import { CloseCode } from '../../protocol/version.js';
import { waitUntil } from '../helpers/processes.js';
import { PoolHarness } from './fakes.js';

let harness: PoolHarness | null = null;
const start = async (options: ConstructorParameters<typeof PoolHarness>[0] = {}, size = 1): Promise<PoolHarness> => {
  harness = new PoolHarness(options);
  const scaling = harness.pool.scale(size);
  if (vi.isFakeTimers()) await vi.advanceTimersByTimeAsync(0); // the fake agents connect on a timer
  await scaling;
  return harness;
};

afterEach(async () => {
  await harness?.pool.close();
  harness = null;
  vi.useRealTimers();
});

/** A task in flight on an agent, as far as the pool can see (it counts them, it never reads them). */
const inFlight = {} as TaskRecord;

describe('pool: a lost agent', () => {
  it('is replaced at once, and the pool is back at its size', async () => {
    const h = await start({}, 2);
    expect(h.ready).toEqual(['p-0', 'p-1']);
    h.lose('p-0');
    await waitUntil(() => h.ready.length === 2, { what: 'the replacement to connect' });
    expect(h.launcher.launchedIds).toEqual(['p-0', 'p-1', 'p-2']);
    expect(h.ready).toEqual(['p-1', 'p-2']);
  });

  it('is not replaced with replaceLostAgents: false', async () => {
    vi.useFakeTimers();
    const h = await start({ replaceLostAgents: false }, 2);
    h.lose('p-1');
    await vi.advanceTimersByTimeAsync(120_000);
    expect(h.launcher.launchedIds).toEqual(['p-0', 'p-1']);
    expect(h.ready).toEqual(['p-0']);
  });

  it('that comes back after it was replaced is sent away', async () => {
    const h = await start({}, 1);
    h.lose('p-0');
    await waitUntil(() => h.ready.includes('p-1'), { what: 'the replacement' });
    const back = h.connect('p-0', 'job-0');
    expect(back.state).toBe('closed');
    expect(h.ready).toEqual(['p-1']);
  });
});

describe('pool: an agent that retires (its walltime ends)', () => {
  it('is replaced once, even when it leaves before the replacement\'s launch has returned', async () => {
    const h = await start({}, 2);
    let release = (): void => undefined;
    h.launcher.gate = new Promise<void>((r) => (release = r));
    const retiring = h.pool.retire(h.pool.links.get('p-0')!, 'walltime ends soon');
    // No task in flight: it shuts down at once, while the replacement's sbatch is still running.
    await retiring;
    expect(h.sockets.get('p-0')!.closedWith?.code).toBe(CloseCode.shutdown);
    release();
    await waitUntil(() => h.ready.length === 2, { what: 'the replacement to connect' });
    expect(h.launcher.launchedIds).toEqual(['p-0', 'p-1', 'p-2']);
    expect(h.ready).toEqual(['p-1', 'p-2']);
    expect(h.launcher.cancelled).toEqual(['job-0']);
  });
});

describe('pool: scaling down', () => {
  it('drains the agent it removes: no shutdown until its tasks are done, then shutdown and its job cancelled, and no replacement', async () => {
    vi.useFakeTimers();
    // One job per agent (different slot counts are different launches), so each has its own job.
    const h = await start({ slotsFor: (ordinal) => ordinal + 1 }, 2);
    const [a0, a1] = [h.pool.links.get('p-0')!, h.pool.links.get('p-1')!];
    a0.inflight.set('t1', inFlight);
    a0.inflight.set('t2', inFlight);
    a1.inflight.set('t3', inFlight); // the least busy: the one removed
    let scaled = false;
    const scaling = h.pool.scale(1).then(() => (scaled = true));

    await vi.advanceTimersByTimeAsync(5_000);
    expect(h.removed).toEqual(['p-1']);
    expect(a1.state).toBe('draining');
    expect(scaled).toBe(false);
    expect(h.sockets.get('p-1')!.sent.filter((m) => m.type === 'shutdown')).toEqual([]);
    expect(h.sockets.get('p-1')!.closedWith).toBeNull();

    a1.inflight.clear(); // its last task reported
    await vi.advanceTimersByTimeAsync(100);
    await scaling;
    expect(scaled).toBe(true);
    expect(h.sockets.get('p-1')!.sent.filter((m) => m.type === 'shutdown')).toHaveLength(1);
    expect(h.sockets.get('p-1')!.closedWith?.code).toBe(CloseCode.shutdown);
    expect(h.launcher.cancelled).toEqual(['job-1']);
    // It left on purpose: not a loss, nothing replaces it; the busy one was never touched.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(h.launcher.launchedIds).toEqual(['p-0', 'p-1']);
    expect(h.ready).toEqual(['p-0']);
    expect(a0.inflight.size).toBe(2);
  });

  it('drops agents launched and not connected before it drains connected ones', async () => {
    const h = await start({}, 1);
    h.autoConnect = false;
    const growing = h.pool.scale(3);
    growing.catch(() => undefined);
    await waitUntil(() => h.pool.pendingAgents().length === 2, { what: 'two agents launched' });
    await h.pool.scale(1);
    expect(h.pool.pendingAgents()).toEqual([]);
    expect(h.removed).toEqual([]);
    expect(h.launcher.cancelled).toEqual(['job-1']);
    expect(h.ready).toEqual(['p-0']);
  });
});

describe('pool: close', () => {
  it('while agents are starting rejects the waiting scale with ClusterClosedError', async () => {
    const h = await start({}, 1);
    h.autoConnect = false;
    const growing = h.pool.scale(2);
    growing.catch(() => undefined);
    await waitUntil(() => h.pool.pendingAgents().length === 1, { what: 'the second agent to be launched' });
    await h.pool.close();
    await expect(growing).rejects.toBeInstanceOf(ClusterClosedError);
    expect(h.sockets.get('p-0')!.sent.filter((m) => m.type === 'shutdown')).toHaveLength(1);
  });
});

describe('pool: replacement cap and backoff', () => {
  it('in a crash loop launches 3 replacements a minute per wanted agent at once, then backs off 1 s, 2 s, ... (with jitter)', async () => {
    vi.useFakeTimers();
    const h = await start({}, 1);
    // Every replacement connects and dies at once.
    h.launcher.onLaunch = (jobs) => {
      for (const job of jobs) {
        for (const id of job.agentIds) {
          h.connect(id, job.jobId);
          h.lose(id);
        }
      }
    };
    h.lose('p-0');
    await vi.advanceTimersByTimeAsync(10);
    expect(h.launcher.launches).toHaveLength(1 + 3);
    // Then backoff steps of 1 s, 2 s, ..., each jittered to between half and all of it: the 5th
    // launch comes at 0.5-1 s, the 6th 1-2 s after it.
    await vi.advanceTimersByTimeAsync(489); // t = 499 ms
    expect(h.launcher.launches).toHaveLength(4);
    await vi.advanceTimersByTimeAsync(501); // t = 1000 ms
    expect(h.launcher.launches).toHaveLength(5);
    await vi.advanceTimersByTimeAsync(499); // t = 1499 ms
    expect(h.launcher.launches).toHaveLength(5);
    await vi.advanceTimersByTimeAsync(1_502); // t = 3001 ms
    expect(h.launcher.launches).toHaveLength(6);
  });

  it('after failed launches fails waiting work with POOL_UNAVAILABLE at recoveryTimeoutMs, keeps trying, and recovers', async () => {
    vi.useFakeTimers();
    const h = await start({ recoveryTimeoutMs: 3_000 }, 1);
    h.launcher.failWith = new Error('sbatch: error: invalid partition specified: gpu');
    h.work.waitingCount = 5;
    h.lose('p-0');
    await vi.advanceTimersByTimeAsync(0);
    expect(h.launcher.launches).toHaveLength(2); // the first replacement, at once; it failed

    await vi.advanceTimersByTimeAsync(2_800);
    expect(h.work.failures).toEqual([]);
    const tried = h.launcher.launches.length;
    expect(tried).toBeGreaterThan(2); // backed off (0.5-1 s), tried again
    expect(tried).toBeLessThan(6); // ... but not in a tight loop
    await vi.advanceTimersByTimeAsync(400);
    expect(h.work.failures).toHaveLength(1);
    const err = h.work.failures[0]!;
    expect(err).toBeInstanceOf(PoolUnavailableError);
    expect(err.code).toBe('POOL_UNAVAILABLE');
    expect((err as PoolUnavailableError).agentsLost).toBe(1);
    expect((err as PoolUnavailableError).replacementsTried).toBeGreaterThanOrEqual(2);
    expect((err as PoolUnavailableError).lastLaunchError).toBe('sbatch: error: invalid partition specified: gpu');
    expect(err.message).toContain('within 3000 ms');

    // It never stops for good: once launches work again, an agent comes back.
    h.launcher.failWith = null;
    await vi.advanceTimersByTimeAsync(35_000);
    expect(h.ready).toHaveLength(1);
    expect(h.work.failures).toHaveLength(1);
  });
});
