// The scheduler's handling of loss and cancellation (coordinator/engine/scheduler.ts) over real
// AgentLinks on fake sockets: a lost agent's tasks run again elsewhere within their loss budget
// and are delivered once; a broadcast task is lost with its agent; cancel drops a queued task
// (never sent) and tells the agent to stop a running one, delivering the error at once. Placement
// and fairness are not tested here (the scheduler's own tests own them).
import { describe, expect, it } from 'vitest';
import type { CoordinatorMessage } from '../../protocol/coordinator-messages.js';
import { Scheduler } from '../../coordinator/engine/scheduler.js';
import type { ShippedCode, TaskOutcome, TaskRecord } from '../../coordinator/engine/task.js';
import { AgentLostError, CancelledError, ClusterClosedError } from '../../coordinator/errors/errors.js';
import { waitUntil } from '../helpers/processes.js';
import { fakeLink, type FakeAgentSocket } from './fakes.js';

const code: ShippedCode = { hash: 'h1', kind: 'function', source: '(x) => x', name: 'identity' };

interface Tracked {
  task: TaskRecord;
  outcomes: TaskOutcome[];
}

function task(id: string, options: { lossRetries?: number; pinned?: string } = {}): Tracked {
  const outcomes: TaskOutcome[] = [];
  const record: TaskRecord = {
    id, code, export: null, args: new Uint8Array([1]), inline: false, chunk: false, timeoutMs: null,
    lossRetriesLeft: options.lossRetries ?? 0, exceptionRetriesLeft: 0, pinned: options.pinned ?? null,
    link: null, settled: false, deliver: (o) => outcomes.push(o),
    priority: 0, share: 'test', weight: 1, resources: null,
  };
  return { task: record, outcomes };
}

/** One task per one-slot agent at a time: no pipeline, so where each task goes is plain. */
const scheduler = (): Scheduler => new Scheduler({ maxPipelinePerSlot: 0, warn: () => undefined });

const tasksSent = (socket: FakeAgentSocket): string[] =>
  socket.sent.filter((m): m is Extract<CoordinatorMessage, { type: 'task' }> => m.type === 'task').map((m) => m.id);
const done = (id: string, byte: number) => ({ type: 'done' as const, id, value: new Uint8Array([byte]), runMs: 1 });

describe('requeue after an agent is lost', () => {
  it('runs its task again on another agent, and delivers one outcome: the one from there', async () => {
    const s = scheduler();
    const a = fakeLink('a');
    const b = fakeLink('b');
    s.addLink(a.link);
    const t = task('t1', { lossRetries: 1 });
    s.submit(t.task);
    await waitUntil(() => tasksSent(a.socket).includes('t1'), { what: 't1 to reach agent a' });

    s.addLink(b.link);
    s.removeLink(a.link, 'connection closed (1006)');
    await waitUntil(() => tasksSent(b.socket).includes('t1'), { what: 't1 to run again on agent b' });
    expect(t.task.lossRetriesLeft).toBe(0);
    expect(t.outcomes).toEqual([]);

    s.onDone(a.link, done('t1', 9)); // a late report from the lost agent is ignored
    s.onDone(b.link, done('t1', 7));
    s.onDone(b.link, done('t1', 8)); // and so is a duplicate
    expect(t.outcomes).toEqual([{ ok: true, value: new Uint8Array([7]), agentId: 'b' }]);
  });

  it('puts the lost tasks at the front of the queue, in their order', async () => {
    const s = scheduler();
    const a = fakeLink('a');
    s.addLink(a.link);
    const first = task('first', { lossRetries: 1 });
    const later = [task('q1'), task('q2')];
    s.submit(first.task);
    for (const t of later) s.submit(t.task);
    await waitUntil(() => tasksSent(a.socket).length === 1, { what: 'the first task to be sent' });
    s.removeLink(a.link, 'gone');
    const b = fakeLink('b');
    s.addLink(b.link);
    await waitUntil(() => tasksSent(b.socket).length === 1, { what: 'a task on agent b' });
    expect(tasksSent(b.socket)).toEqual(['first']);
  });

  it('fails the task with AgentLostError once its loss budget is spent, naming the agent', async () => {
    const s = scheduler();
    const a = fakeLink('a');
    s.addLink(a.link);
    const t = task('t1', { lossRetries: 0 });
    s.submit(t.task);
    await waitUntil(() => tasksSent(a.socket).includes('t1'), { what: 't1 to reach agent a' });
    s.removeLink(a.link, 'no heartbeat for 30 s');
    expect(t.outcomes).toHaveLength(1);
    const outcome = t.outcomes[0]!;
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error).toBeInstanceOf(AgentLostError);
    expect(outcome.error.message).toContain("agent a, which was lost: no heartbeat for 30 s");
  });

  it('does not run a broadcast task (pinned to its agent) anywhere else', async () => {
    const s = scheduler();
    const a = fakeLink('a');
    const b = fakeLink('b');
    s.addLink(a.link);
    s.addLink(b.link);
    const t = task('pinned', { lossRetries: 3, pinned: 'a' });
    s.submit(t.task);
    await waitUntil(() => tasksSent(a.socket).includes('pinned'), { what: 'the pinned task on agent a' });
    s.removeLink(a.link, 'gone');
    expect(t.outcomes.map((o) => (o.ok ? 'ok' : o.error.code))).toEqual(['AGENT_LOST']);
    expect(tasksSent(b.socket)).toEqual([]);
  });

  it('after close(), fails running tasks with the close error when their agent goes, instead of re-running them', async () => {
    const s = scheduler();
    const a = fakeLink('a');
    s.addLink(a.link);
    const running = task('running', { lossRetries: 3 });
    const queued = task('queued', { lossRetries: 3 });
    s.submit(running.task);
    s.submit(queued.task);
    await waitUntil(() => tasksSent(a.socket).includes('running'), { what: 'the first task to run' });
    const closed = new ClusterClosedError('the cluster was closed before the task finished');
    s.close(closed);
    expect(queued.outcomes).toEqual([{ ok: false, error: closed }]);
    expect(running.outcomes).toEqual([]);
    s.removeLink(a.link, 'cluster closed');
    expect(running.outcomes).toEqual([{ ok: false, error: closed }]);
  });
});

describe('cancel', () => {
  it('drops a queued task: it is never sent, and its error is delivered at once', async () => {
    const s = scheduler();
    const a = fakeLink('a');
    s.addLink(a.link);
    const busy = task('busy');
    const waiting = task('waiting');
    s.submit(busy.task);
    s.submit(waiting.task);
    await waitUntil(() => tasksSent(a.socket).includes('busy'), { what: 'the first task to run' });
    const error = new CancelledError('task waiting was cancelled');
    s.cancel(waiting.task, error);
    expect(waiting.outcomes).toEqual([{ ok: false, error }]);
    s.onDone(a.link, done('busy', 1));
    // The slot is free again and nothing else is queued: 'waiting' never goes out.
    const next = task('next');
    s.submit(next.task);
    await waitUntil(() => tasksSent(a.socket).includes('next'), { what: 'the next task' });
    expect(tasksSent(a.socket)).toEqual(['busy', 'next']);
  });

  it('tells the agent to stop a running task, delivers the error now, and ignores its late result', async () => {
    const s = scheduler();
    const a = fakeLink('a');
    s.addLink(a.link);
    const t = task('t1');
    s.submit(t.task);
    await waitUntil(() => tasksSent(a.socket).includes('t1'), { what: 't1 to run' });
    const error = new CancelledError('task t1 was cancelled');
    s.cancel(t.task, error);
    expect(a.socket.sent.filter((m) => m.type === 'cancel')).toEqual([{ type: 'cancel', id: 't1' }]);
    expect(t.outcomes).toEqual([{ ok: false, error }]);
    s.onDone(a.link, done('t1', 5));
    expect(t.outcomes).toHaveLength(1);
  });

  it('of a task already settled does nothing', async () => {
    const s = scheduler();
    const a = fakeLink('a');
    s.addLink(a.link);
    const t = task('t1');
    s.submit(t.task);
    await waitUntil(() => tasksSent(a.socket).includes('t1'), { what: 't1 to run' });
    s.onDone(a.link, done('t1', 5));
    s.cancel(t.task, new CancelledError('too late'));
    expect(a.socket.sent.filter((m) => m.type === 'cancel')).toEqual([]);
    expect(t.outcomes.map((o) => o.ok)).toEqual([true]);
  });
});
