// Actors hold what they ask for (issue 12 item 6): by default no slot, so two actors on a 2-slot
// pool leave tasks runnable; `resources: { cpus }` keeps slots from tasks while the actor lives;
// more than any agent has fails at once with RESOURCES_UNSATISFIABLE; slots held by other actors
// make it wait in state 'starting' (visible in actors()), and it starts once they are freed.
// Both modes: embedded, and a client of a service in this process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, ResourcesUnsatisfiableError } from 'clustrix';
import { ClusterService } from '../../dist/coordinator/service/index.js';
import { waitUntil } from '../helpers/processes.js';

class Counter {
  n = 0;
  add(k: number): number {
    this.n += k;
    return this.n;
  }
}

const modes: [string, () => Promise<{ cluster: Cluster; close: () => Promise<void> }>][] = [
  [
    'embedded',
    async () => {
      const cluster = await Cluster.start({ agents: 1, slots: 2 });
      return { cluster, close: () => cluster.close() };
    },
  ],
  [
    'connected',
    async () => {
      const service = await ClusterService.start({ profile: 'actor-slots', cluster: { agents: 1, slots: 2 }, writeStateFile: false });
      const cluster = await Cluster.connect({ address: service.address, credential: service.credential });
      return {
        cluster,
        close: async () => {
          await cluster.close();
          await service.stop('test done');
        },
      };
    },
  ],
];

describe.each(modes)('actors and slots (%s)', (_mode, open) => {
  let cluster: Cluster;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ cluster, close } = await open());
  });
  afterAll(async () => {
    await close?.();
  });

  it('two default actors on a 2-slot pool leave both slots to tasks', async () => {
    const a = await cluster.actor(Counter);
    const b = await cluster.actor(Counter);
    expect(await a.call('add', 1)).toBe(1);
    // Two 300 ms tasks: both slots run them at the same time (each starts before the other ends).
    const [x, y] = await cluster.map((ms: number) => {
      const start = Date.now();
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
      return { start, end: Date.now() };
    }, [300, 300]);
    expect(x!.start).toBeLessThan(y!.end);
    expect(y!.start).toBeLessThan(x!.end);
    expect(await b.call('add', 2)).toBe(2);
    await a.kill();
    await b.kill();
  });

  it('an actor asking for more cpus than any agent has fails at once, naming what is missing', async () => {
    const err = await cluster.actor(Counter, { resources: { cpus: 3 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourcesUnsatisfiableError);
    expect((err as ResourcesUnsatisfiableError).code).toBe('RESOURCES_UNSATISFIABLE');
    expect((err as ResourcesUnsatisfiableError).missing).toEqual({ cpus: { asked: 3, largest: 2 } });
    expect((err as Error).message).toMatch(/asks for 3 cpus \(slots\); the largest agent has 2/);
  });

  it('an actor holding every slot keeps tasks waiting; they run once it is killed', async () => {
    const holder = await cluster.actor(Counter, { resources: { cpus: 2 } });
    let ran = false;
    const run = cluster.run((x: number) => x * 2, 21).then((v) => ((ran = true), v));
    // The actor still answers: its calls run on its own thread.
    expect(await holder.call('add', 5)).toBe(5);
    expect(ran).toBe(false);
    await holder.kill();
    expect(await run).toBe(42);
  });

  it('an actor that waits for slots other actors hold shows state starting, and starts when they are freed', async () => {
    const first = await cluster.actor(Counter, { resources: { cpus: 2 } });
    const second = cluster.actor(Counter, { resources: { cpus: 1 } });
    await waitUntil(async () => (await cluster.actors()).some((a) => a.state === 'starting' && a.agentId === null), { what: 'the second actor waiting in state starting' });
    await first.kill();
    const handle = await second;
    expect(await handle.call('add', 1)).toBe(1);
    await handle.kill();
  });
});
