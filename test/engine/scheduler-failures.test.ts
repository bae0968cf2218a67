// Failures against fake agents: a lost agent's tasks run next on another (ahead of their holder's
// later tasks) while their loss budget lasts, then fail with AGENT_LOST; a cancelled queued task is
// never sent and stops counting; a cancelled running one is cancelled on its agent.
import { describe, expect, it } from 'vitest';
import { CancelledError } from '../../coordinator/errors/errors.js';
import { FakeAgent, scheduler, settle, task } from './fake-links.js';

describe('scheduler on agent loss', () => {
  it('re-runs a lost agent\'s tasks on another agent before the tasks queued after them', async () => {
    const s = scheduler();
    const a = new FakeAgent('a1', 2, s);
    const first = [task('q', { retries: 1 }), task('q', { retries: 1 })];
    for (const t of first) s.submit(t.record);
    await settle();
    const later = task('q');
    s.submit(later.record);
    a.lose();
    const b = new FakeAgent('a2', 2, s);
    await settle();
    expect(b.taskIds).toEqual(first.map((t) => t.record.id));
    expect(s.running).toBe(2);
    expect(s.queued).toBe(1);
  });

  it('fails a task with AGENT_LOST once its loss budget is spent', async () => {
    const s = scheduler();
    const a = new FakeAgent('a1', 1, s);
    const t = task('q', { retries: 0 });
    s.submit(t.record);
    await settle();
    a.lose();
    const outcome = await t.outcome;
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error.code).toBe('AGENT_LOST');
    expect(s.running).toBe(0);
  });

  it('does not count a lost agent\'s tasks in its holder\'s share any more', async () => {
    const s = scheduler();
    const a = new FakeAgent('a1', 2, s);
    for (let i = 0; i < 2; i++) s.submit(task('big').record);
    await settle();
    a.lose();
    const b = new FakeAgent('a2', 1, s);
    s.submit(task('big').record);
    s.submit(task('other').record);
    await settle();
    // Both holders hold nothing now: the one queued first goes first.
    expect(b.taskIds[0]!.startsWith('big')).toBe(true);
  });
});

describe('scheduler cancel', () => {
  it('drops a queued task: never sent, not counted, its outcome CANCELLED', async () => {
    const s = scheduler();
    const agent = new FakeAgent('a1', 1, s);
    const [first, second, third] = [task('c'), task('c'), task('c')];
    for (const t of [first!, second!, third!]) s.submit(t.record);
    await settle();
    s.cancel(second!.record, new CancelledError('test'));
    expect(s.queued).toBe(1);
    const outcome = await second!.outcome;
    expect(!outcome.ok && outcome.error.code).toBe('CANCELLED');
    agent.done(first!.record.id);
    await settle();
    expect(agent.taskIds).toEqual([first!.record.id, third!.record.id]);
  });

  it('cancels a running task on its agent, which keeps the slot until it confirms', async () => {
    const s = scheduler();
    const agent = new FakeAgent('a1', 1, s);
    const [running, waiting] = [task('c'), task('c')];
    s.submit(running!.record);
    s.submit(waiting!.record);
    await settle();
    s.cancel(running!.record, new CancelledError('test'));
    await settle();
    expect(agent.socket.sent.some((m) => m.type === 'cancel' && m.id === running!.record.id)).toBe(true);
    expect(agent.taskIds).toEqual([running!.record.id]);
    agent.fail(running!.record.id, 'cancelled');
    await settle();
    expect(agent.taskIds).toEqual([running!.record.id, waiting!.record.id]);
  });

  it('empties a holder whose every queued task was cancelled, so others run', async () => {
    const s = scheduler();
    const agent = new FakeAgent('a1', 1, s);
    const blocker = task('x');
    s.submit(blocker.record);
    await settle();
    const batch = Array.from({ length: 1000 }, () => task('batch', { priority: 3 }));
    for (const t of batch) s.submit(t.record);
    const other = task('other');
    s.submit(other.record);
    await settle();
    for (const t of batch) s.cancel(t.record, new CancelledError('test'));
    expect(s.queued).toBe(1);
    agent.done(blocker.record.id);
    await settle();
    expect(agent.taskIds[1]).toBe(other.record.id);
  });

  it('fails queued tasks with the close error when the scheduler closes', async () => {
    const s = scheduler();
    const t = task('c');
    s.submit(t.record);
    s.close(new CancelledError('closing'));
    const outcome = await t.outcome;
    expect(!outcome.ok && outcome.error.message).toBe('closing');
    expect(s.queued).toBe(0);
  });
});
