// Several pools in the scheduler, against fake agents: a task that names a pool runs only there,
// waits in that pool's own queue (a full pool holds up no other work), counts as demand of that
// pool only; an unknown pool and work no pool can run (an empty pool that cannot grow) fail at
// once, naming the pools; an empty pool that may grow keeps the work waiting.
import { describe, expect, it } from 'vitest';
import { FakeAgent, scheduler, settle, task } from './fake-links.js';

describe('scheduler with several pools (fake agents)', () => {
  it('runs a task that names a pool only on that pool, and plain tasks anywhere', async () => {
    const s = scheduler(0, { names: ['cpu', 'gpu'] });
    const cpu = new FakeAgent('c', 4, s, 4, undefined, 'cpu');
    const gpu = new FakeAgent('g', 4, s, 4, undefined, 'gpu');
    const named = [task('a', { pool: 'gpu' }), task('a', { pool: 'gpu' })];
    for (const t of named) s.submit(t.record);
    await settle();
    expect(gpu.taskIds).toEqual(named.map((t) => t.record.id));
    expect(cpu.taskIds).toEqual([]);
    const plain = task('b');
    s.submit(plain.record);
    await settle();
    expect([...cpu.taskIds, ...gpu.taskIds]).toContain(plain.record.id);
  });

  it("a full pool's waiting tasks hold up no other work, and count as that pool's demand only", async () => {
    const s = scheduler(0, { names: ['cpu', 'gpu'] });
    const cpu = new FakeAgent('c', 1, s, 4, undefined, 'cpu');
    const gpu = new FakeAgent('g', 1, s, 4, undefined, 'gpu');
    const gpuTasks = Array.from({ length: 5 }, () => task('batch', { pool: 'gpu' }));
    for (const t of gpuTasks) s.submit(t.record);
    await settle();
    expect(gpu.taskIds).toHaveLength(1);
    expect(s.waitingFor('gpu')).toBe(4);
    expect(s.demandFor('gpu')).toBe(4);
    expect(s.demandFor('cpu')).toBe(0);
    const plain = task('interactive');
    s.submit(plain.record);
    await settle();
    expect(cpu.taskIds).toEqual([plain.record.id]);
    gpu.done(gpu.taskIds[0]!);
    await settle();
    expect(gpu.taskIds).toHaveLength(2);
  });

  it('fails a task that names an unknown pool, naming the pools', async () => {
    const s = scheduler(0, { names: ['cpu', 'gpu'] });
    new FakeAgent('c', 1, s, 4, undefined, 'cpu');
    const t = task('a', { pool: 'tpu' });
    s.submit(t.record);
    const outcome = await t.outcome;
    expect(outcome.ok).toBe(false);
    if (outcome.ok) return;
    expect(outcome.error.code).toBe('POOL_UNKNOWN');
    expect(outcome.error.message).toMatch(/^there is no pool 'tpu' \(pools: cpu, gpu\)/);
  });

  it('fails at once work only an empty pool that cannot grow could run; keeps it when the pool may grow', async () => {
    let gpuMayGrow = false;
    const s = scheduler(0, { names: ['cpu', 'gpu'], growable: (p) => p === 'gpu' && gpuMayGrow });
    new FakeAgent('c', 2, s, 4, undefined, 'cpu');
    const stuck = task('a', { pool: 'gpu' });
    s.submit(stuck.record);
    const outcome = await stuck.outcome;
    expect(!outcome.ok && outcome.error.code).toBe('RESOURCES_UNSATISFIABLE');
    expect(!outcome.ok && outcome.error.message).toMatch(/^no agent can run this task; pools considered: gpu \(0 agents, cannot grow\)/);
    const big = task('a', { resources: { gpus: 1 } });
    s.submit(big.record);
    const bigOutcome = await big.outcome;
    expect(!bigOutcome.ok && bigOutcome.error.message).toMatch(/gpus: asks 1, the most any agent has is 0\); pools considered: cpu \(1 agent\), gpu \(0 agents, cannot grow\)/);
    gpuMayGrow = true;
    const waits = task('a', { resources: { gpus: 1 } });
    s.submit(waits.record);
    await settle();
    expect(s.queued).toBe(1);
    expect(s.demandFor('gpu')).toBe(1);
    // The pool grew, but its agent has no GPU: now no pool can run it.
    new FakeAgent('g', 2, s, 4, undefined, 'gpu');
    await settle();
    const late = await waits.outcome;
    expect(!late.ok && late.error.code).toBe('RESOURCES_UNSATISFIABLE');
  });

  it('fails the queued work of a pool that lost its agents, and work for any agent only when asked', async () => {
    const s = scheduler(0, { names: ['cpu', 'gpu'] });
    const gpu = new FakeAgent('g', 1, s, 4, undefined, 'gpu');
    const [a, b] = [task('x', { pool: 'gpu' }), task('x', { pool: 'gpu' })];
    s.submit(a!.record);
    s.submit(b!.record);
    await settle();
    expect(gpu.taskIds).toEqual([a!.record.id]);
    const anyTask = task('y', { resources: { gpus: 1 } });
    s.submit(anyTask.record);
    await settle();
    s.failQueuedFor('gpu', false, Object.assign(new Error('gone'), { code: 'POOL_UNAVAILABLE' }) as never);
    const out = await b!.outcome;
    expect(out.ok).toBe(false);
    expect(s.queued).toBe(1);
    s.failQueuedFor('gpu', true, Object.assign(new Error('gone'), { code: 'POOL_UNAVAILABLE' }) as never);
    expect((await anyTask.outcome).ok).toBe(false);
    expect(s.queued).toBe(0);
  });
});
