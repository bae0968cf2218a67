// Row 8: actor calls on one actor (1 agent × 1 slot), awaited one at a time and pipelined
// (all issued at once; the actor runs them one at a time, in order), calls/s. Skipped while
// `cluster.actor` is not a function (detected at run time). API used: `await cluster.actor(Class)`
// resolves to a handle; `handle.call('method', ...args)` returns a promise of the result.
import { pick } from '../lib/config.mjs';
import { loadClustrix } from '../lib/clustrix.mjs';
import { attempt, latency, perRound, rounds } from '../lib/metrics.mjs';

export const meta = { id: 'actors', row: 8, title: 'Actor calls (awaited and pipelined)' };

export async function skip() {
  const { Cluster } = await loadClustrix();
  if (typeof Cluster.prototype.actor !== 'function') return 'this clustrix build has no actors (`cluster.actor` is not a function)';
  return null;
}

export async function run(ctx, log) {
  const N = pick(5000, 500);
  const PIPE = pick(20_000, 2000);
  const ROUNDS = pick(3, 2);
  const metrics = [];
  const failures = [];
  const { Cluster } = await loadClustrix();
  await attempt(failures, 'clustrix', async () => {
    const cluster = await Cluster.start({ agents: 1, slots: 1 });
    try {
      const counter = await cluster.actor(class Counter {
        constructor() {
          this.n = 0;
        }
        inc() {
          return ++this.n;
        }
      });
      if (typeof counter?.call !== 'function') throw new Error('cluster.actor(Class) did not resolve to a handle with call(method, ...args)');
      const awaited = await rounds({ warmup: 1, count: ROUNDS, log, label: `actor awaited ×${N}` }, async () => {
        const lat = new Array(N);
        for (let i = 0; i < N; i++) {
          const t = performance.now();
          await counter.call('inc');
          lat[i] = performance.now() - t;
        }
        return lat;
      });
      const rate = (lat) => (lat.length / lat.reduce((s, x) => s + x, 0)) * 1000;
      metrics.push(perRound('awaited', `clustrix actor \`handle.call('inc')\`, awaited one at a time (×${N})`, 'calls/s', 'higher', awaited.map(rate)));
      metrics.push(latency('awaited-latency', 'the same: latency of one awaited call', awaited));
      const pipelined = await rounds({ warmup: 1, count: ROUNDS, log, label: `actor pipelined ×${PIPE}` }, async () => {
        const t = performance.now();
        const out = await Promise.all(Array.from({ length: PIPE }, () => counter.call('inc')));
        const ms = performance.now() - t;
        for (let i = 1; i < out.length; i++) if (out[i] <= out[i - 1]) throw new Error('actor calls ran out of order');
        return (PIPE / ms) * 1000;
      });
      metrics.push(perRound('pipelined', `clustrix actor \`handle.call('inc')\`, ${PIPE} issued at once (Promise.all)`, 'calls/s', 'higher', pipelined));
    } finally {
      await cluster.close();
    }
  }, log);
  return { metrics, comparisons: [], notes: [], failures };
}
