// When the pool launches its next replacement: at once while the per-minute cap has room and
// launches work; past the cap or after a failed launch, after an exponential backoff with jitter
// (1 s doubling to 30 s), so a crash loop is rate-limited and never stopped for good.
import { describe, expect, it } from 'vitest';
import { Recovery } from '../../coordinator/engine/pool-recovery.js';

const T0 = 1_000_000;

describe('Recovery.delay', () => {
  it('is 0 for the first 3 replacements a minute per wanted agent, then backs off 1 s doubling to 30 s', () => {
    const r = new Recovery(() => 1);
    for (let i = 0; i < 6; i++) {
      expect(r.delay(T0 + i, 2)).toBe(0);
      r.launching(T0 + i, 1);
    }
    const steps = Array.from({ length: 8 }, (_, i) => {
      const d = r.delay(T0 + 10 + i, 2);
      r.launching(T0 + 10 + i, 1);
      return d;
    });
    expect(steps).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  });

  it('jitters each step between half and all of it', () => {
    const low = new Recovery(() => 0);
    low.launchFailed(new Error('spawn EMFILE'));
    expect(low.delay(T0, 1)).toBe(500);
    const high = new Recovery(() => 0.999_999);
    high.launchFailed(new Error('spawn EMFILE'));
    expect(high.delay(T0, 1)).toBeCloseTo(1_000, 0);
  });

  it('backs off after a failed launch even with room under the cap, and runs freely again once an agent connects', () => {
    const r = new Recovery(() => 1);
    r.launchFailed(new Error('sbatch: error: invalid partition'));
    expect(r.delay(T0, 4)).toBe(1_000);
    r.jobDied('42', 'failed (exit code 127)');
    expect(r.delay(T0, 4)).toBe(2_000);
    r.connected();
    expect(r.delay(T0, 4)).toBe(0);
  });

  it('gives the cap room again once a minute has passed', () => {
    const r = new Recovery(() => 1);
    for (let i = 0; i < 3; i++) r.launching(T0, 1);
    expect(r.delay(T0 + 1, 1)).toBe(1_000);
    expect(r.delay(T0 + 60_000, 1)).toBe(0);
  });
});

describe('Recovery.error', () => {
  it('says how many agents were lost and replacements tried, the last launch error and the last failed job with its output', async () => {
    const r = new Recovery();
    r.agentLost('pid-1-a-0', 'connection closed (1006)');
    r.launching(T0, 1);
    r.launchFailed(new Error('could not start agent a-1: /x/node: spawn /x/node ENOENT\n  job pid-failed-a-1, state not started'));
    r.launching(T0, 1);
    r.jobDied('pid-7-a-2', 'failed (exit code 3)');
    const err = await r.error({ wanted: 1, timeoutMs: 3_000, replacing: true, pendingJobs: [] }, async (job) => `stderr:\noutput of ${job}`);
    expect(err.code).toBe('POOL_UNAVAILABLE');
    expect(err.agentsLost).toBe(1);
    expect(err.replacementsTried).toBe(2);
    expect(err.lastLaunchError).toBe('could not start agent a-1: /x/node: spawn /x/node ENOENT');
    expect(err.lastFailedJob).toEqual({ jobId: 'pid-7-a-2', state: 'ended before its agent connected: failed (exit code 3)', output: 'stderr:\noutput of pid-7-a-2' });
    expect(err.message.split('\n').slice(0, 5)).toEqual([
      'the pool has no agent (1 wanted) and could not get one back within 3000 ms: 1 agent lost, 2 replacements tried',
      '  last launch error: could not start agent a-1: /x/node: spawn /x/node ENOENT',
      '  last failed job pid-7-a-2: ended before its agent connected: failed (exit code 3); last output:',
      '    stderr:',
      '    output of pid-7-a-2',
    ]);
  });

  it('starts a new account once the pool is back to its size', async () => {
    const r = new Recovery();
    r.agentLost('j', 'lost');
    r.launching(T0, 1);
    r.recovered();
    const err = await r.error({ wanted: 2, timeoutMs: 100, replacing: false, pendingJobs: ['j9'] }, async () => '');
    expect(err.message.split('\n')[0]).toBe('the pool has no agent (2 wanted) and could not get one back within 100 ms: 0 agents lost, 0 replacements tried (replaceLostAgents is false); launched and not connected: job j9');
    expect(err.lastFailedJob).toBeNull();
  });
});
