// 100 MB values (issue 16): a Buffer and a Float64Array through `run` and back, and a Float64Array
// made on one agent and read on the other (agent to agent, via a submit ref), in both modes. Their
// bytes travel as raw frame segments beside the envelope (protocol/segments.ts) and are moved into
// worker threads; these tests check that every byte arrives, that the types survive, and that a
// task may change its argument without changing the value the agent keeps for the next one.
import { describe, expect, it } from 'vitest';
import type { Cluster } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';

const MB = 1024 * 1024;
const SIZE = 100 * MB;
const LEN = SIZE / 8;

// Checks spread over the whole value, cheap enough for 100 MB: a sampled fingerprint.
function fingerprint(view: ArrayLike<number>): number {
  let h = view.length;
  const step = Math.max(1, Math.floor(view.length / 4099));
  for (let i = 0; i < view.length; i += step) h = (h * 31 + view[i]!) % 2_147_483_647;
  return (h * 31 + view[view.length - 1]!) % 2_147_483_647;
}

describe.each(MODES)('100 MB values ($name)', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 2, slots: 1 }, (c) => (cluster = c));

  it('a 100 MB Buffer goes through run and comes back a Buffer, every byte intact', { timeout: 120_000 }, async () => {
    const buf = Buffer.allocUnsafe(SIZE);
    for (let i = 0; i < SIZE; i += 4096) buf.writeUInt32LE(i, i);
    buf[SIZE - 1] = 0x5a;
    const back = await cluster.run((b: Buffer) => {
      // on the agent: the argument arrived whole
      if (b.readUInt32LE(4096 * 100) !== 4096 * 100) throw new Error('argument corrupted');
      return b;
    }, buf);
    expect(Buffer.isBuffer(back)).toBe(true);
    expect(back.length).toBe(SIZE);
    expect(back.equals(buf)).toBe(true);
  });

  it('a 100 MB Float64Array goes through run and comes back a Float64Array, every element intact', { timeout: 120_000 }, async () => {
    const arr = new Float64Array(LEN);
    for (let i = 0; i < LEN; i++) arr[i] = i * 0.5;
    const back = await cluster.run((a: Float64Array) => {
      for (let i = 0; i < a.length; i++) a[i]! += 1;
      return a;
    }, arr);
    expect(back).toBeInstanceOf(Float64Array);
    expect(back.length).toBe(LEN);
    let wrong = 0;
    for (let i = 0; i < LEN; i++) if (back[i] !== i * 0.5 + 1) wrong++;
    expect(wrong).toBe(0);
    // the caller's array is its own: the task changed a copy
    expect(arr[LEN - 1]).toBe((LEN - 1) * 0.5);
  });

  it('a 100 MB Float64Array made on one agent is read on the other through a submit ref', { timeout: 120_000 }, async () => {
    const made = cluster.submit((n: number) => {
      const a = new Float64Array(n);
      for (let i = 0; i < n; i++) a[i] = (i % 1000) + 0.25;
      return a;
    }, LEN);
    await cluster.wait([made]);
    const before = new Map((await cluster.objectStats()).links.map((l) => [l.agentId, l.fromPeers]));
    // On both agents (one holds it, the other fetches it agent to agent). Each task changes its
    // argument first: the agent's kept copy must not change with it.
    const read = (xs: Float64Array): number[] => {
      let sum = 0;
      for (let i = 0; i < xs.length; i++) sum += xs[i]!;
      xs.fill(-1);
      return [xs.length, sum];
    };
    let sum = 0;
    for (let i = 0; i < LEN; i++) sum += (i % 1000) + 0.25;
    const expected = [LEN, sum];
    expect(await cluster.broadcast(read, made)).toEqual([expected, expected]);
    const links = (await cluster.objectStats()).links;
    const fetched = links.map((l) => l.fromPeers - (before.get(l.agentId) ?? 0)).sort((a, b) => a - b);
    expect(fetched[1]).toBeGreaterThanOrEqual(SIZE);
    expect(fetched[1]).toBeLessThan(SIZE + MB);
    // read again on both: the kept copies are as made
    expect(await cluster.broadcast(read, made)).toEqual([expected, expected]);
    // and the value comes back to the caller whole
    const value = await made;
    expect(value).toBeInstanceOf(Float64Array);
    const want = new Float64Array(LEN);
    for (let i = 0; i < LEN; i++) want[i] = (i % 1000) + 0.25;
    expect(fingerprint(value)).toBe(fingerprint(want));
    await made.free();
  });
});
