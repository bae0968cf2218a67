// THE 1 GB TEST (issue 16: "1 GB values work"): a 1 GiB Uint8Array as an argument and a 1 GiB
// Float64Array as a result, through the default frame limits. Past 256 MiB (the largest WebSocket
// message, protocol/version.ts) a segment is cut into several messages and put together again on
// the other side, so this is also the test of that path. Embedded mode only: the connected mode
// adds one more hop of the same framing (covered at 100 MB in large-values.test.ts), and each
// direction of 1 GiB costs about a second and a few GiB of memory here.
import { describe, expect, it } from 'vitest';
import type { Cluster } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';

const GIB = 1024 * 1024 * 1024;

describe('1 GiB values (embedded)', () => {
  let cluster!: Cluster;
  useCluster(MODES.find((m) => m.name === 'embedded')!, { agents: 1, slots: 1 }, (c) => (cluster = c));

  it('a 1 GiB argument arrives whole', { timeout: 120_000 }, async () => {
    const big = new Uint8Array(GIB);
    for (let i = 0; i < GIB; i += 1024 * 1024) big[i] = (i >>> 20) & 0xff;
    big[GIB - 1] = 0x77;
    const seen = await cluster.run((b: Uint8Array) => {
      let marks = 0;
      for (let i = 0; i < b.length; i += 1024 * 1024) if (b[i] === ((i >>> 20) & 0xff)) marks++;
      return [b.length, marks, b[b.length - 1]];
    }, big);
    expect(seen).toEqual([GIB, GIB / (1024 * 1024), 0x77]);
  });

  it('a 1 GiB result comes back whole', { timeout: 120_000 }, async () => {
    const n = GIB / 8;
    const back = await cluster.run((len: number) => {
      const a = new Float64Array(len);
      for (let i = 0; i < len; i += 4096) a[i] = i;
      a[len - 1] = -1;
      return a;
    }, n);
    expect(back).toBeInstanceOf(Float64Array);
    expect(back.length).toBe(n);
    let wrong = 0;
    for (let i = 0; i < n - 1; i += 4096) if (back[i] !== i) wrong++;
    expect(wrong).toBe(0);
    expect(back[n - 1]).toBe(-1);
  });
});
