// Placement by resources against fake agents that offer different amounts (fake GPUs and a custom
// resource in their hello): a task runs only where it fits, holds what it asked for until it is
// done, waits without holding up the tasks behind it, and fails at once with
// RESOURCES_UNSATISFIABLE when no agent has that much.
import { describe, expect, it } from 'vitest';
import { FakeAgent, scheduler, settle, task } from './fake-links.js';

describe('scheduler resources (fake agents with fake GPUs)', () => {
  it('runs a GPU task only on the agent that has a GPU', async () => {
    const s = scheduler();
    const cpu = new FakeAgent('cpu', 4, s);
    const gpu = new FakeAgent('gpu', 4, s, 4, { gpus: 1 });
    const t = task('g', { resources: { gpus: 1 } });
    s.submit(t.record);
    await settle();
    expect(gpu.taskIds).toEqual([t.record.id]);
    expect(cpu.taskIds).toEqual([]);
  });

  it('holds the GPU while the task runs: a second GPU task waits, and tasks behind it go on', async () => {
    const s = scheduler();
    const gpu = new FakeAgent('gpu', 4, s, 4, { gpus: 1 });
    const [first, second] = [task('g', { resources: { gpus: 1 } }), task('g', { resources: { gpus: 1 } })];
    const plain = task('p');
    s.submit(first!.record);
    s.submit(second!.record);
    s.submit(plain.record);
    await settle();
    expect(gpu.taskIds).toEqual([first!.record.id, plain.record.id]);
    expect(s.queued).toBe(1);
    gpu.done(first!.record.id);
    await settle();
    expect(gpu.taskIds).toEqual([first!.record.id, plain.record.id, second!.record.id]);
    expect(gpu.link.reserved.gpus).toBe(1);
  });

  it('keeps slots a task reserved with cpus from the fast path', async () => {
    const s = scheduler();
    const agent = new FakeAgent('a', 4, s);
    s.submit(task('wide', { resources: { cpus: 3 } }).record);
    for (let i = 0; i < 5; i++) s.submit(task('p').record);
    await settle();
    // 4 slots: 3 reserved, 1 left for one-slot tasks (no pipeline in this scheduler).
    expect(agent.running).toHaveLength(2);
  });

  it('places a custom resource by name', async () => {
    const s = scheduler();
    const plain = new FakeAgent('plain', 2, s);
    const licensed = new FakeAgent('licensed', 2, s, 4, { licenses: 2 });
    s.submit(task('l', { resources: { licenses: 1 } }).record);
    await settle();
    expect(licensed.taskIds).toHaveLength(1);
    expect(plain.taskIds).toHaveLength(0);
  });

  it('fails at once, naming what is missing, when no agent has that much', async () => {
    const s = scheduler();
    new FakeAgent('gpu', 2, s, 4, { gpus: 1 });
    const t = task('g', { resources: { gpus: 2, cpus: 8 } });
    s.submit(t.record);
    const outcome = await t.outcome;
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('RESOURCES_UNSATISFIABLE');
    expect((outcome.error as unknown as { missing: unknown }).missing).toEqual({ gpus: { asked: 2, largest: 1 }, cpus: { asked: 8, largest: 2 } });
    expect(outcome.error.message).toMatch(/gpus: asks 2, the most any agent has is 1/);
  });

  it('a cancelled waiting task stops counting', async () => {
    const s = scheduler();
    const gpu = new FakeAgent('gpu', 2, s, 4, { gpus: 1 });
    const [a, b] = [task('g', { resources: { gpus: 1 } }), task('g', { resources: { gpus: 1 } })];
    s.submit(a!.record);
    s.submit(b!.record);
    await settle();
    expect(s.queued).toBe(1);
    const { CancelledError } = await import('../../coordinator/errors/errors.js');
    s.cancel(b!.record, new CancelledError('test'));
    expect(s.queued).toBe(0);
    gpu.done(a!.record.id);
    await settle();
    expect(gpu.taskIds).toEqual([a!.record.id]);
  });
});
