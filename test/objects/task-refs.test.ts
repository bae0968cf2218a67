// cluster.submit → TaskRef, refs as arguments (top level: the value; nested: a ref the task
// awaits), chains and diamonds across agents, put + map with shared args, refs as results,
// errors flowing to dependents, and free() — in both modes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectRef, RemoteError, TaskRef, type Cluster } from 'clustrix';
import { MODES, openCluster, type Opened } from './modes.js';

describe.each(MODES)('task refs (%s)', (mode) => {
  let opened: Opened;
  let cluster: Cluster;
  beforeAll(async () => {
    opened = await openCluster(mode, { agents: 2, slots: 1 });
    cluster = opened.cluster;
  });
  afterAll(async () => {
    await opened?.close();
  });

  it('submit returns a TaskRef whose await gives the result', async () => {
    const ref = cluster.submit((a: number, b: number) => a + b, 2, 3);
    expect(ref).toBeInstanceOf(TaskRef);
    expect(await ref).toBe(5);
    expect(await ref).toBe(5);
  });

  it('a top-level ref argument arrives as its value, a nested one as a ref the task awaits', async () => {
    const a = cluster.submit((n: number) => new Float64Array(n).fill(1.5), 1000);
    const sum = cluster.submit((xs: Float64Array) => xs.reduce((s, x) => s + x, 0), a);
    expect(await sum).toBe(1500);
    const nested = cluster.submit(async (o: { inner: PromiseLike<Float64Array> }) => (await o.inner).length, { inner: a });
    expect(await nested).toBe(1000);
  });

  it('runs a chain and a diamond across both agents', async () => {
    let x: TaskRef<number> = cluster.submit(() => 1);
    for (let i = 0; i < 20; i++) x = cluster.submit((v: number) => v + 1, x);
    expect(await x).toBe(21);
    const top = cluster.submit(() => 10);
    const left = cluster.submit((v: number) => v * 2, top);
    const right = cluster.submit((v: number) => v * 3, top);
    const bottom = cluster.submit((l: number, r: number) => l + r, left, right);
    expect(await bottom).toBe(50);
    // A fan-in of refs made on both agents (results too large to travel inline move agent to agent).
    const parts = Array.from({ length: 6 }, (_, i) => cluster.submit((k: number) => new Uint8Array(200_000).fill(k), i));
    const total = cluster.submit((...xs: Uint8Array[]) => xs.reduce((s, x) => s + x[0]! + x.length, 0), ...parts);
    expect(await total).toBe(15 + 6 * 200_000);
  });

  it('put once, read by every task of a map through shared args', async () => {
    const table = cluster.put(Float64Array.from({ length: 100_000 }, (_, i) => i));
    expect(table).toBeInstanceOf(ObjectRef);
    const parts = await cluster.map((i: number, t: Float64Array) => t[i * 1000], [0, 1, 2, 50], { args: [table] });
    expect(parts).toEqual([0, 1000, 2000, 50_000]);
    expect(await cluster.run((t: Float64Array) => t.length, table)).toBe(100_000);
  });

  it('refs can be results: a ref returned by a task is a ref here', async () => {
    const inner = cluster.put('deep value');
    const outer = cluster.submit((box: { ref: unknown }) => ({ again: box.ref }), { ref: inner });
    const got = (await outer) as { again: ObjectRef<string> };
    expect(got.again).toBe(inner);
    expect(await got.again).toBe('deep value');
  });

  it('runs a task where its ref argument is (locality), so the value does not move', async () => {
    for (let i = 0; i < 4; i++) {
      const made = cluster.submit(() => ({ pid: process.pid, data: new Uint8Array(300_000) }));
      const used = cluster.submit((v: { pid: number; data: Uint8Array }) => ({ made: v.pid, used: process.pid }), made);
      const { made: where, used: there } = await used;
      expect(there).toBe(where);
      await made.free();
    }
  });

  it("a task's error reaches whoever awaits its ref, and its dependents", async () => {
    const bad = cluster.submit(() => {
      throw new RangeError('no such part');
    });
    const after = cluster.submit((v: number) => v + 1, bad);
    await expect(bad).rejects.toBeInstanceOf(RemoteError);
    await expect(after).rejects.toThrow(/no such part/);
  });

  it('free() releases the value everywhere', async () => {
    const bytes = (s: { agents: { bytes: number }[] }): number => s.agents.reduce((n, a) => n + a.bytes, 0);
    const big = cluster.submit(() => new Uint8Array(1_000_000));
    expect((await big).length).toBe(1_000_000);
    const held = await cluster.objectStats();
    expect(bytes(held)).toBeGreaterThanOrEqual(1_000_000);
    await big.free();
    // Other refs of this file may be collected meanwhile: bytes only go down.
    expect(bytes(await cluster.objectStats())).toBeLessThanOrEqual(bytes(held) - 1_000_000);
    await big.free(); // idempotent
    expect(await big).toHaveLength(1_000_000); // a value already fetched stays with its ref
  });
});
