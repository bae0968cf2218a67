// Refs nested inside arguments arrive as refs the task awaits, and their bytes move only then: a
// nested ref never awaited adds none of its bytes to any agent's links; a top-level ref still
// arrives as its value, fetched before the task starts.
import { describe, expect, it } from 'vitest';
import type { Cluster } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';

const SIZE = 2_000_000;

/** Bytes all agents received so far, over the coordinator link and from peers. */
async function received(cluster: Cluster): Promise<number> {
  const { links } = await cluster.objectStats();
  return links.reduce((sum, l) => sum + l.fromCoordinator + l.fromPeers, 0);
}

describe.each(MODES)('nested refs are read when awaited ($name)', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 2, slots: 1 }, (c) => (cluster = c));

  it('a nested ref the task never awaits moves no bytes', async () => {
    const big = cluster.put(new Uint8Array(SIZE).fill(7));
    await cluster.wait([big]);
    const before = await received(cluster);
    const kind = await cluster.run((box: { inner: unknown }) => typeof (box.inner as PromiseLike<unknown>).then, { inner: big });
    expect(kind).toBe('function');
    expect((await received(cluster)) - before).toBeLessThan(SIZE / 4);
    await big.free();
  });

  it('the same nested ref, awaited, arrives with its bytes (the counters see them)', async () => {
    const big = cluster.put(new Uint8Array(SIZE).fill(7));
    await cluster.wait([big]);
    const before = await received(cluster);
    const sum = await cluster.run(async (box: { inner: PromiseLike<Uint8Array> }) => {
      const v = await box.inner;
      return v.length + v[0]!;
    }, { inner: big });
    expect(sum).toBe(SIZE + 7);
    expect((await received(cluster)) - before).toBeGreaterThanOrEqual(SIZE);
    await big.free();
  });

  it('a nested ref to a task result on another agent is read when awaited, twice, and inside a map chunk', async () => {
    const made = cluster.submit(() => ({ xs: new Float64Array(50_000).fill(0.5), tag: 'made' }));
    const got = await cluster.run(async (box: { r: PromiseLike<{ xs: Float64Array; tag: string }> }) => {
      const a = await box.r;
      const b = await box.r;
      a.xs[0] = 99; // each read is the task's own copy
      return [a.tag, a.xs.length, b.xs[0]];
    }, { r: made });
    expect(got).toEqual(['made', 50_000, 0.5]);
    const lens = await cluster.map(async (i: number, box: { r: PromiseLike<{ xs: Float64Array }> }) => (await box.r).xs.length + i, [0, 1, 2, 3], { args: [{ r: made }], chunkSize: 2 });
    expect(lens).toEqual([50_000, 50_001, 50_002, 50_003]);
    await made.free();
  });

  it('an inline task reads a nested ref as its own copy (changing it leaves the kept value alone)', async () => {
    const made = cluster.submit(() => new Float64Array(20_000).fill(2));
    const scribble = cluster.remote(async (box: { r: PromiseLike<Float64Array> }) => {
      const xs = await box.r;
      xs.fill(-1);
      return (await box.r)[0];
    }, { inline: true });
    expect(await cluster.run(scribble, { r: made })).toBe(2);
    expect(await cluster.run(scribble, { r: made })).toBe(2);
    expect((await made)[0]).toBe(2);
    await made.free();
  });

  it('a top-level ref still arrives as its value, its bytes fetched before the task starts', async () => {
    const v = cluster.put(new Uint8Array(SIZE).fill(3));
    await cluster.wait([v]);
    const before = await received(cluster);
    expect(await cluster.run((xs: Uint8Array) => xs.length + xs[0]!, v)).toBe(SIZE + 3);
    expect((await received(cluster)) - before).toBeGreaterThanOrEqual(SIZE);
    await v.free();
  });
});
