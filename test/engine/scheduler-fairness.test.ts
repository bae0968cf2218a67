// Fair share and priorities against fake agents: the next free slot goes to the highest priority,
// then to the share-holder (a client, or a call) holding the least share of slots, weighted; a
// holder with a long queue never makes a newcomer wait behind it.
import { describe, expect, it } from 'vitest';
import { FakeAgent, scheduler, settle, task } from './fake-links.js';

describe('scheduler fair share', () => {
  it('gives the next free slot to a newcomer, not to the batch queued before it', async () => {
    const s = scheduler();
    const agent = new FakeAgent('a1', 2, s);
    const batch = Array.from({ length: 100 }, () => task('batch'));
    for (const t of batch) s.submit(t.record);
    await settle();
    expect(agent.running).toEqual([batch[0]!.record.id, batch[1]!.record.id]);
    const interactive = task('interactive');
    s.submit(interactive.record);
    await settle();
    agent.done(batch[0]!.record.id);
    await settle();
    expect(agent.taskIds[2]).toBe(interactive.record.id);
    agent.done(interactive.record.id);
    expect((await interactive.outcome).ok).toBe(true);
    expect(s.queued).toBe(97);
    expect(s.running).toBe(2);
  });

  it('alternates between two holders with equal shares', async () => {
    const s = scheduler();
    const agent = new FakeAgent('a1', 1, s);
    for (let i = 0; i < 5; i++) s.submit(task('a').record);
    for (let i = 0; i < 5; i++) s.submit(task('b').record);
    await settle();
    for (let i = 0; i < 9; i++) {
      agent.done(agent.running[0]!);
      await settle();
    }
    expect(agent.taskIds.map((id) => id[0]).join('')).toBe('ababababab');
  });

  it('splits slots by weight: weight 2 holds twice the slots of weight 1', async () => {
    const s = scheduler();
    const agent = new FakeAgent('a1', 6, s);
    for (let i = 0; i < 50; i++) s.submit(task('heavy', { weight: 2 }).record);
    for (let i = 0; i < 50; i++) s.submit(task('light').record);
    await settle();
    const held = (): Record<string, number> => {
      const count: Record<string, number> = {};
      for (const id of agent.running) count[id.split('-')[0]!] = (count[id.split('-')[0]!] ?? 0) + 1;
      return count;
    };
    // Finish the oldest task each time: whoever frees a slot, the split stays 4:2.
    for (let i = 0; i < 30; i++) {
      expect(held()).toEqual({ heavy: 4, light: 2 });
      agent.done(agent.running[0]!);
      await settle();
    }
  });
});

describe('scheduler priorities', () => {
  it('runs a holder\'s higher-priority task before its earlier lower-priority ones', async () => {
    const s = scheduler();
    const agent = new FakeAgent('a1', 1, s);
    const low = [task('p'), task('p'), task('p')];
    for (const t of low) s.submit(t.record);
    await settle();
    const high = task('p', { priority: 10 });
    s.submit(high.record);
    agent.done(low[0]!.record.id);
    await settle();
    expect(agent.taskIds).toEqual([low[0]!.record.id, high.record.id]);
  });

  it('orders across holders: a high priority goes first even from the holder with the larger share', async () => {
    const s = scheduler();
    const agent = new FakeAgent('a1', 2, s);
    const big = [task('big'), task('big')];
    for (const t of big) s.submit(t.record);
    await settle();
    const urgent = task('big', { priority: 5 });
    const small = task('small');
    s.submit(small.record);
    s.submit(urgent.record);
    agent.done(big[0]!.record.id);
    await settle();
    expect(agent.taskIds[2]).toBe(urgent.record.id);
    agent.done(big[1]!.record.id);
    await settle();
    expect(agent.taskIds[3]).toBe(small.record.id);
  });

  it('a negative priority waits behind everything else', async () => {
    const s = scheduler();
    const agent = new FakeAgent('a1', 1, s);
    const first = task('x');
    s.submit(first.record);
    await settle();
    const later = task('y', { priority: -1 });
    const normal = task('z');
    s.submit(later.record);
    s.submit(normal.record);
    agent.done(first.record.id);
    await settle();
    expect(agent.taskIds[1]).toBe(normal.record.id);
  });
});

describe('scheduler express tasks', () => {
  it('marks a holder\'s only task on agents express (the agent runs it before its queue), not the batch behind it', async () => {
    const s = scheduler(4);
    const agent = new FakeAgent('a1', 1, s);
    for (let i = 0; i < 10; i++) s.submit(task('batch').record);
    await settle();
    const interactive = task('interactive');
    const urgent = task('batch', { priority: 1 });
    s.submit(interactive.record);
    s.submit(urgent.record);
    agent.done(agent.running[0]!);
    agent.done(agent.running[0]!);
    await settle();
    const express = new Map(agent.socket.sent.flatMap((m) => (m.type === 'task' ? [[m.id, m.express] as const] : [])));
    expect([...express.values()].filter(Boolean)).toHaveLength(3);
    expect(express.get(interactive.record.id)).toBe(true);
    expect(express.get(urgent.record.id)).toBe(true);
  });

  it('sends express tasks urgently, their code once and ahead of them', async () => {
    const s = scheduler(4);
    const agent = new FakeAgent('a1', 1, s);
    agent.link.avgRunMs = 0.1; // room for 1 + 4 on the agent
    const first = task('batch', { code: 'f' });
    s.submit(first.record);
    await settle();
    // The batch's next function: its code goes with the batch; an interactive call of the same
    // function in the same turn is urgent and needs no second copy (the socket keeps the order).
    const batch = [task('batch', { code: 'g' }), task('batch', { code: 'g' })];
    const interactive = task('interactive', { code: 'g' });
    for (const t of batch) s.submit(t.record);
    await Promise.resolve();
    expect(agent.taskIds).toHaveLength(3);
    s.submit(interactive.record);
    await settle();
    const urgent = agent.socket.urgent.map((m) => (m.type === 'task' ? `task ${m.id}` : m.type === 'code' ? `code ${m.hash}` : m.type));
    expect(urgent).toEqual(['code f', `task ${first.record.id}`, `task ${interactive.record.id}`]);
    const order = agent.socket.sent.flatMap((m) => (m.type === 'code' ? [`code ${m.hash}`] : m.type === 'task' ? [`task ${m.id}`] : []));
    expect(order).toEqual(['code f', `task ${first.record.id}`, 'code g', ...batch.map((t) => `task ${t.record.id}`), `task ${interactive.record.id}`]);
  });
});
