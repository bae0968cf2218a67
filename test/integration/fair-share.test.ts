// Fair share through real agents, in both modes: a batch queued ahead does not make an awaited
// `run` wait for it (embedded: each call holds its own share; connected: each client does), and
// a higher `priority` goes before earlier work. One agent × 1 slot, tasks of 20 ms.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { ClusterService } from '../../dist/coordinator/service/index.js';
import { waitUntil } from '../helpers/processes.js';

const N = 100;
const work = (ms: number): number => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return ms;
};

/** Starts a map of N 20 ms tasks on `batch`, then an awaited run on `interactive`: how much of the map was done by then. */
async function doneBeforeRun(batch: Cluster, interactive: Cluster, runOptions: { priority?: number } = {}): Promise<{ done: number; total: number }> {
  let done = 0;
  const mapping = (async () => {
    for await (const _ of batch.stream(work, Array.from({ length: N }, () => 20))) done++;
  })();
  // The batch is queued (its first results back) before the interactive call arrives.
  await waitUntil(() => done >= 1, { what: 'the first result of the map' });
  const run = runOptions.priority === undefined ? interactive.run((x: number) => x + 1, 1) : interactive.remote((x: number) => x + 1, runOptions)(1);
  expect(await run).toBe(2);
  const seen = done;
  await mapping;
  return { done: seen, total: done };
}

describe('fair share: embedded (each call its own share)', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start({ agents: 1, slots: 1 });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it(`an awaited run waits for a few tasks of a ${N}-task map, not for the map`, async () => {
    const { done, total } = await doneBeforeRun(cluster, cluster);
    expect(total).toBe(N);
    expect(done).toBeLessThan(20);
  });

  it('a higher priority goes before earlier work of the same call', async () => {
    const order: number[] = [];
    const f = cluster.remote((i: number) => {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      return i;
    });
    const urgent = cluster.remote((i: number) => i, { priority: 10 });
    const low = Array.from({ length: 20 }, (_, i) => f(i).then((v) => order.push(v)));
    const high = urgent(100).then((v) => order.push(v));
    await Promise.all([...low, high]);
    expect(order.indexOf(100)).toBeLessThan(5);
  });
});

describe('fair share: connected (each client its own share)', () => {
  let service: ClusterService;
  let batch: Cluster;
  let interactive: Cluster;
  beforeAll(async () => {
    service = await ClusterService.start({ profile: 'fair', cluster: { agents: 1, slots: 1 }, writeStateFile: false });
    batch = await Cluster.connect({ address: service.address, credential: service.credential });
    interactive = await Cluster.connect({ address: service.address, credential: service.credential });
  });
  afterAll(async () => {
    await batch?.close();
    await interactive?.close();
    await service?.stop('test done');
  });

  it(`another client's run waits for a few tasks of a ${N}-task map, not for the map`, async () => {
    const { done, total } = await doneBeforeRun(batch, interactive);
    expect(total).toBe(N);
    expect(done).toBeLessThan(20);
  });

  it('a run with a higher priority from the batch client itself goes first too', async () => {
    const { done } = await doneBeforeRun(batch, batch, { priority: 1 });
    expect(done).toBeLessThan(20);
  });
});
