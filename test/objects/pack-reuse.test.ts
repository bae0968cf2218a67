// Large arguments packed into a buffer given back by an earlier task (protocol/values.ts
// releasePacked, engine/submit.ts): every task still sees exactly its own arguments, whether the
// calls follow each other, run at once, are retried after an exception, or are broadcast.
import { describe, expect, it } from 'vitest';
import type { Cluster } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';

const MB = 1024 * 1024;

function array(seed: number): Float64Array {
  const a = new Float64Array((3 * MB) / 8);
  for (let i = 0; i < a.length; i++) a[i] = seed * 1_000_003 + i;
  return a;
}

/** What the agent computes from its argument: a sum that any changed element changes. */
function checksum(a: Float64Array): number {
  let h = a.length;
  for (let i = 0; i < a.length; i++) h = (h * 31 + a[i]!) % 2_147_483_647;
  return h;
}

describe.each(MODES)('large arguments in a reused pack buffer ($name)', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, { agents: 2, slots: 1 }, (c) => (cluster = c));

  it('calls one after another each see their own array', { timeout: 60_000 }, async () => {
    for (let seed = 1; seed <= 6; seed++) {
      const a = array(seed);
      expect(await cluster.run(checksum, a)).toBe(checksum(a));
    }
  });

  it('calls in flight together, retried and broadcast ones among them, see their own arrays', { timeout: 60_000 }, async () => {
    // Fails once on each task thread, then runs: a retry sends the same arguments again.
    const flaky = (a: Float64Array): number => {
      const g = globalThis as { flakyOnce?: boolean };
      if (!g.flakyOnce) {
        g.flakyOnce = true;
        throw new Error('first attempt on this thread');
      }
      let h = a.length;
      for (let i = 0; i < a.length; i++) h = (h * 31 + a[i]!) % 2_147_483_647;
      return h;
    };
    const arrays = [10, 11, 12, 13, 14].map(array);
    const [a, b, c, d, e] = arrays as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
    const got = await Promise.all([
      cluster.run(checksum, a),
      cluster.call(flaky, [b], { retryExceptions: 2 }),
      cluster.broadcast(checksum, c),
      cluster.run(checksum, d),
    ]);
    expect(got).toEqual([checksum(a), checksum(b), [checksum(c), checksum(c)], checksum(d)]);
    for (let seed = 20; seed < 24; seed++) expect(await cluster.run(checksum, array(seed))).toBe(checksum(array(seed)));
    expect(await cluster.run(checksum, e)).toBe(checksum(e));
  });
});
