// How the scheduler hands tasks to fake agents: a burst spreads round robin (in a row per agent
// once many tasks wait per agent, a refill to the agent whose tasks came back), each agent gets its
// slots plus a pipeline sized by its round trip and task time, drained agents and agents whose
// slots actors hold get nothing, and `running`/`queued` stay exact.
import { describe, expect, it } from 'vitest';
import { FakeAgent, scheduler, settle, task } from './fake-links.js';

describe('scheduler dispatch', () => {
  it('spreads a burst round robin, one task per agent per turn', async () => {
    const s = scheduler();
    const agents = [1, 2, 3, 4].map((i) => new FakeAgent(`a${i}`, 2, s));
    const tasks = Array.from({ length: 6 }, () => task('burst'));
    for (const t of tasks) s.submit(t.record);
    await settle();
    expect(agents.map((a) => a.taskIds.length)).toEqual([2, 2, 1, 1]);
    expect(agents[0]!.taskIds).toEqual([tasks[0]!.record.id, tasks[4]!.record.id]);
    expect(s.running).toBe(6);
    expect(s.queued).toBe(0);
  });

  it('gives each agent its share in a row when many tasks wait per agent, with the rest round robin', async () => {
    const s = scheduler(128);
    const agents = [1, 2, 3].map((i) => new FakeAgent(`a${i}`, 1, s));
    for (const a of agents) {
      // Room for 1 + ceil(10 ms / 0.5 ms) = 21 each.
      a.link.rttMs = 10;
      a.link.avgRunMs = 0.5;
    }
    const tasks = Array.from({ length: 32 }, () => task('row'));
    for (const t of tasks) s.submit(t.record);
    await settle();
    const ids = tasks.map((t) => t.record.id);
    // floor(32 / 3) = 10 each in a row; the 2 left one per turn.
    expect(agents.map((a) => a.taskIds)).toEqual([[...ids.slice(0, 10), ids[30]], [...ids.slice(10, 20), ids[31]], ids.slice(20, 30)]);
  });

  it('sends the tasks that replace results to the agent they came from', async () => {
    const s = scheduler(128);
    const agents = [1, 2, 3, 4].map((i) => new FakeAgent(`a${i}`, 1, s));
    for (const a of agents) {
      // Room for 1 + ceil(10 ms / 0.5 ms) = 21 each.
      a.link.rttMs = 10;
      a.link.avgRunMs = 0.5;
    }
    for (let i = 0; i < 40; i++) s.submit(task('r').record);
    await settle();
    const back = agents[2]!;
    for (const id of back.running) back.done(id);
    const refill = Array.from({ length: 10 }, () => task('r'));
    for (const t of refill) s.submit(t.record);
    await settle();
    expect(back.running).toEqual(refill.map((t) => t.record.id));
    expect(agents.map((a) => a.running.length)).toEqual([10, 10, 10, 10]);
  });

  it('pipelines beyond the slots to cover one round trip of short tasks, and no further', async () => {
    const s = scheduler(128);
    const agent = new FakeAgent('a1', 2, s);
    agent.link.rttMs = 4;
    agent.link.avgRunMs = 0.5;
    for (let i = 0; i < 100; i++) s.submit(task('p').record);
    await settle();
    // 2 slots + ceil(2 × 4 ms / 0.5 ms) = 18 on the agent.
    expect(agent.running).toHaveLength(18);
    expect(s.queued).toBe(82);
    agent.done(agent.running[0]!, 0.5);
    await settle();
    expect(agent.running).toHaveLength(18);
    expect(s.queued).toBe(81);
  });

  it('sends nothing new to a draining agent, and refills the others as results come back', async () => {
    const s = scheduler();
    const a = new FakeAgent('a1', 1, s);
    const b = new FakeAgent('a2', 1, s);
    for (let i = 0; i < 4; i++) s.submit(task('d').record);
    await settle();
    s.drain(a.link);
    a.done(a.running[0]!);
    b.done(b.running[0]!);
    await settle();
    expect(a.taskIds).toHaveLength(1);
    expect(b.taskIds).toHaveLength(2);
    expect(s.running).toBe(1);
  });

  it('keeps worker tasks off slots that actors hold, and uses them again once freed', async () => {
    const s = scheduler();
    const agent = new FakeAgent('a1', 2, s);
    agent.link.actorSlots = 2;
    s.linkChanged(agent.link);
    s.submit(task('w').record);
    await settle();
    expect(agent.taskIds).toHaveLength(0);
    agent.link.actorSlots = 1;
    s.linkChanged(agent.link);
    await settle();
    expect(agent.taskIds).toHaveLength(1);
  });

  it('counts inline tasks apart from worker slots', async () => {
    const s = scheduler();
    const agent = new FakeAgent('a1', 1, s, 2);
    for (let i = 0; i < 3; i++) s.submit(task('w').record);
    for (let i = 0; i < 10; i++) s.submit(task('i', { inline: true }).record);
    await settle();
    // 1 worker slot; 2 inline + a pipeline of 2.
    expect(agent.link.inflight.size - agent.link.inlineInflight).toBe(1);
    expect(agent.link.inlineInflight).toBe(4);
    expect(s.queued).toBe(2 + 6);
  });

  it('resolves whenIdle once the last task is done', async () => {
    const s = scheduler();
    const agent = new FakeAgent('a1', 1, s);
    const t = task('x');
    s.submit(t.record);
    let idle = false;
    const waiting = s.whenIdle().then(() => (idle = true));
    await settle();
    expect(idle).toBe(false);
    agent.done(t.record.id);
    await waiting;
    expect(s.running).toBe(0);
  });
});
