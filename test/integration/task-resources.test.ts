// Per-task resources through real local agents given fake GPUs via env (CUDA_VISIBLE_DEVICES=0 and
// CLUSTRIX_RESOURCES in the environment the agents inherit; no GPU on this machine), both modes:
// agents() rows show what each agent offers, a task asking for a GPU runs, one asking for more
// than any agent has fails at once with RESOURCES_UNSATISFIABLE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, ResourcesUnsatisfiableError } from 'clustrix';
import { ClusterService } from '../../dist/coordinator/service/index.js';

const saved = { cuda: process.env.CUDA_VISIBLE_DEVICES, custom: process.env.CLUSTRIX_RESOURCES };

const modes: [string, () => Promise<{ cluster: Cluster; close: () => Promise<void> }>][] = [
  ['embedded', async () => {
    const cluster = await Cluster.start({ agents: 1, slots: 2 });
    return { cluster, close: () => cluster.close() };
  }],
  ['connected', async () => {
    const service = await ClusterService.start({ profile: 'resources', cluster: { agents: 1, slots: 2 }, writeStateFile: false });
    const cluster = await Cluster.connect({ address: service.address, credential: service.credential });
    return { cluster, close: async () => {
      await cluster.close();
      await service.stop('test done');
    } };
  }],
];

describe.each(modes)('per-task resources with fake GPUs via env (%s)', (_mode, open) => {
  let cluster: Cluster;
  let close: () => Promise<void>;
  beforeAll(async () => {
    process.env.CUDA_VISIBLE_DEVICES = '5,7';
    process.env.CLUSTRIX_RESOURCES = '{"licenses": 1}';
    try {
      ({ cluster, close } = await open());
    } finally {
      if (saved.cuda === undefined) delete process.env.CUDA_VISIBLE_DEVICES;
      else process.env.CUDA_VISIBLE_DEVICES = saved.cuda;
      if (saved.custom === undefined) delete process.env.CLUSTRIX_RESOURCES;
      else process.env.CLUSTRIX_RESOURCES = saved.custom;
    }
  });
  afterAll(async () => {
    await close?.();
  });

  it('agents() rows name what each agent offers', async () => {
    const [agent] = await cluster.agents();
    expect(agent!.resources).toMatchObject({ cpus: 2, gpus: 2, licenses: 1 });
    expect(agent!.resources.memory).toBeGreaterThan(0);
  });

  it('runs tasks that fit, one GPU task at a time, and plain tasks beside them', async () => {
    const gpuTask = cluster.remote((i: number) => {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      return i;
    }, { resources: { gpus: 1 } });
    const out = await Promise.all([gpuTask(1), gpuTask(2), cluster.run((x: number) => x, 3)]);
    expect(out).toEqual([1, 2, 3]);
    expect(await cluster.map((x: number) => x * 2, [1, 2, 3], { resources: { licenses: 1 } })).toEqual([2, 4, 6]);
  });

  it('fails at once with RESOURCES_UNSATISFIABLE naming what is missing', async () => {
    const err = await cluster.remote((x: number) => x, { resources: { gpus: 3, fpga: 1 } })(1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourcesUnsatisfiableError);
    expect((err as ResourcesUnsatisfiableError).missing).toEqual({ gpus: { asked: 3, largest: 2 }, fpga: { asked: 1, largest: 0 } });
  });

  it('a GPU task\'s thread and its child processes see only its own GPU', async () => {
    const seen = cluster.remote(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- shipped source cannot import; agents provide require
      const { execFileSync } = require('node:child_process') as typeof import('node:child_process');
      const child = execFileSync('sh', ['-c', 'printf %s "$CUDA_VISIBLE_DEVICES"'], { encoding: 'utf8' });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
      return { thread: process.env.CUDA_VISIBLE_DEVICES, child };
    }, { resources: { gpus: 1 } });
    const [a, b] = await Promise.all([seen(), seen()]);
    expect(a!.thread).toBe(a!.child);
    expect(b!.thread).toBe(b!.child);
    expect([a!.thread, b!.thread].sort()).toEqual(['5', '7']);
    const both = await cluster.remote(() => process.env.CUDA_VISIBLE_DEVICES, { resources: { gpus: 2 } })();
    expect(both!.split(',').sort()).toEqual(['5', '7']);
  });
});
