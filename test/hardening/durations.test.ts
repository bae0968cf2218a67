// Finding 10.4: Node's timers overflow above 2^31-1 ms and fire after 1 ms, so `timeoutMs: 3e9`
// timed a task out at once. Every duration is now checked against that limit, and the one timer
// that may legitimately be longer (the walltime drain) waits in steps.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Cluster } from 'clustrix';
import { longTimeout, MAX_TIMER_MS } from '../../protocol/durations.js';
import { profileSchema } from '../../coordinator/config/profile-schema.js';

describe('durations past 2^31-1 ms', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start({ agents: 1, slots: 1 });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('a task timeoutMs of 3e9 is refused, naming the limit', () => {
    expect(() => cluster.remote((x: number) => x, { timeoutMs: 3e9 })).toThrow(/^options\.timeoutMs: expected a whole number of milliseconds from 1 to 2147483647 \(the longest timer Node can set\), got 3000000000$/);
  });

  it('the longest timeoutMs Node can hold is accepted and does not fire early', async () => {
    const slow = cluster.remote(async (ms: number) => new Promise((r) => setTimeout(() => r(ms), ms)), { timeoutMs: MAX_TIMER_MS });
    expect(await slow(50)).toBe(50);
  });

  it('an actor call timeoutMs of 3e9 is refused', async () => {
    class Echo {
      echo(x: unknown) {
        return x;
      }
    }
    await expect(cluster.actor(Echo, { timeoutMs: 3e9 })).rejects.toThrow(/^options\.timeoutMs: expected a whole number of milliseconds from 1 to 2147483647 \(the longest timer Node can set\), got 3000000000$/);
  });

  it.each(['heartbeatMs', 'agentGraceMs', 'startTimeoutMs'])('Cluster.start refuses %s of 3e9', async (name) => {
    await expect(Cluster.start({ agents: 1, [name]: 3e9 })).rejects.toThrow(new RegExp(`^options\\.${name}: expected a whole number of milliseconds from \\d+ to 2147483647 \\(the longest timer Node can set\\), got 3000000000$`));
  });

  it('a profile with heartbeatMs of 3e9 is refused', () => {
    const parsed = profileSchema.safeParse({ heartbeatMs: 3e9 });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toContain('2147483647');
  });
});

describe('longTimeout', () => {
  it('waits past the 32-bit limit in steps instead of firing at once', () => {
    vi.useFakeTimers();
    try {
      const fn = vi.fn();
      longTimeout(fn, 3e9);
      vi.advanceTimersByTime(1_000);
      expect(fn).not.toHaveBeenCalled();
      vi.advanceTimersByTime(MAX_TIMER_MS);
      expect(fn).not.toHaveBeenCalled();
      vi.advanceTimersByTime(3e9 - MAX_TIMER_MS - 1_000);
      expect(fn).toHaveBeenCalledTimes(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('can be cancelled', () => {
    vi.useFakeTimers();
    try {
      const fn = vi.fn();
      const cancel = longTimeout(fn, 10);
      cancel();
      vi.advanceTimersByTime(100);
      expect(fn).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });
});
