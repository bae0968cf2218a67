// A ref inside a result (of run, map, an actor call) is held for the caller: the value it names
// stays while the program holds the returned ref, even after every other handle to it was freed,
// and goes once that ref is freed.
import { describe, expect, it } from 'vitest';
import type { Cluster, ObjectRef } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';

class Echo {
  async later(box: { r: unknown }): Promise<{ r: unknown }> {
    await new Promise((r) => setTimeout(r, 300));
    return box;
  }
}

describe.each(MODES)('refs inside results are held for the caller ($name)', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 2, slots: 1 }, (c) => (cluster = c));

  it('a ref returned by run() outlives the freed ref it came from', async () => {
    const a = cluster.put('kept value');
    const running = cluster.run(async (box: { a: unknown }) => {
      await new Promise((r) => setTimeout(r, 300));
      return box;
    }, { a });
    await cluster.wait([a]);
    const objects = (await cluster.objectStats()).objects;
    // The program lets go of its handle while the task still runs (the task's pin holds the value).
    await a.free();
    const out = (await running) as { a: ObjectRef<string> };
    expect(out.a).not.toBe(a);
    expect(out.a.objectId).toBe(a.objectId);
    expect(await out.a).toBe('kept value');
    expect((await cluster.objectStats()).objects).toBe(objects);
    await out.a.free();
    expect((await cluster.objectStats()).objects).toBe(objects - 1);
  });

  it('a ref returned by an actor call outlives the freed ref it came from', async () => {
    const echo = await cluster.actor(Echo);
    const a = cluster.submit(() => new Uint8Array(100_000).fill(4));
    await cluster.wait([a]);
    const answer = echo.call('later', { r: a });
    await new Promise((r) => setImmediate(r));
    await a.free();
    const out = (await answer) as { r: ObjectRef<Uint8Array> };
    const bytes = await out.r;
    expect([bytes.length, bytes[0]]).toEqual([100_000, 4]);
    await out.r.free();
    await echo.kill();
  });
});
