// The pipeline on an agent while share-holders compete: bounded by time at the agent's measured
// completion rate (Little's law), so another holder's call waits behind little; a holder alone
// keeps the pipeline sized by round trip and run time (fewer, bigger frames).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeAgent, scheduler, settle, task } from './fake-links.js';

/** An agent whose tasks take ~0 ms, 2 ms away, measured to complete 5 tasks per ms. */
function fastAgent(s: ReturnType<typeof scheduler>): FakeAgent {
  const agent = new FakeAgent('a1', 1, s);
  agent.link.rttMs = 2;
  agent.link.avgRunMs = 0.001;
  agent.link.doneRate = 5;
  return agent;
}

describe('scheduler pipeline window', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('keeps the deep pipeline for a holder alone', async () => {
    const s = scheduler(128);
    const agent = fastAgent(s);
    for (let i = 0; i < 500; i++) s.submit(task('batch').record);
    await settle();
    // 1 slot + 128 pipelined (the most per slot).
    expect(agent.running).toHaveLength(129);
  });

  it('bounds it to two round trips of measured completions while another holder has work', async () => {
    const s = scheduler(128);
    const agent = fastAgent(s);
    for (let i = 0; i < 500; i++) s.submit(task('batch').record);
    s.submit(task('interactive').record);
    await settle();
    // 1 slot + 5 per ms × max(2 ms, 2 × 2 ms).
    expect(agent.running).toHaveLength(21);
    // The other holder is done; the bound holds a while after (no deep refill between its calls).
    const interactive = agent.running.find((id) => id.startsWith('interactive'))!;
    agent.done(interactive, 0.001);
    await settle();
    expect(agent.running).toHaveLength(21);
  });

  it('measures the completion rate over busy time only', async () => {
    let now = 1_000;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    const s = scheduler(128);
    const agent = new FakeAgent('a1', 1, s);
    const answer = async (count: number): Promise<void> => {
      for (let i = 0; i < count; i++) {
        agent.done(agent.running[0]!, 0.001);
        now += 0.5;
        await settle();
      }
    };
    for (let i = 0; i < 41; i++) s.submit(task('batch').record);
    await settle();
    // 40 completions over 20 ms of work: 2 per ms.
    await answer(41);
    expect(agent.running).toHaveLength(0);
    expect(agent.link.doneRate).toBeCloseTo(2, 5);
    // An idle second is not counted: the meter restarts with the next work.
    now += 1_000;
    for (let i = 0; i < 41; i++) s.submit(task('batch').record);
    await settle();
    await answer(41);
    expect(agent.link.doneRate).toBeCloseTo(2, 5);
  });
});
