// Row 2: throughput of trivial tasks: `map` of 100,000 items, no chunking, 2 agents × 1 slot,
// against Dask (client.map + gather, 2 worker processes, fewer items) and piscina / tinypool
// (same function, 2 threads, one process).
import { pick } from '../lib/config.mjs';
import { connectedCluster, loadClustrix } from '../lib/clustrix.mjs';
import { attempt, comparison, perRound, rounds } from '../lib/metrics.mjs';
import { runDask, runPool } from '../lib/refs.mjs';

export const meta = { id: 'throughput', row: 2, title: 'Throughput of trivial tasks (map, no chunking, 2 agents × 1 slot)' };

export async function run(ctx, log) {
  const N = pick(100_000, 10_000);
  const ROUNDS = pick(3, 2);
  // A full-size warm-up: the first 100,000-task round of a fresh process runs ~20–30 % slower than
  // the next (the heap grows to the map's working set, later JIT tiers), for clustrix and the pools alike.
  const WARM = N;
  const DASK_N = pick(10_000, 1_000);
  const metrics = [];
  const comparisons = [];
  const notes = [];
  const failures = [];
  const input = Array.from({ length: N }, (_, i) => i);
  const fmtN = (n) => n.toLocaleString('en-US');

  const clx = await attempt(failures, 'clustrix', async () => {
    const { Cluster } = await loadClustrix();
    const cluster = await Cluster.start({ agents: 2, slots: 1 });
    try {
      const rates = await rounds({ warmup: 1, count: ROUNDS, budgetMs: pick(75_000, 20_000), log, label: `clustrix map ${N}` }, async ({ warmup }) => {
        const items = warmup ? input.slice(0, WARM) : input;
        const t = performance.now();
        const out = await cluster.map((x) => x + 1, items);
        const ms = performance.now() - t;
        if (out.length !== items.length || out[items.length - 1] !== items.length) throw new Error('wrong map result');
        return (items.length / ms) * 1000;
      });
      return perRound('clustrix', `clustrix \`map(x => x + 1, ${fmtN(N)} items)\`, 2 agents × 1 slot`, 'tasks/s', 'higher', rates);
    } finally {
      await cluster.close();
    }
  }, log);
  if (clx) metrics.push(clx);

  const connected = await attempt(failures, 'clustrix connected', async () => {
    const { cluster, close } = await connectedCluster({ agents: 2, slots: 1 });
    try {
      const rates = await rounds({ warmup: 1, count: ROUNDS, budgetMs: pick(75_000, 20_000), log, label: `clustrix connected map ${N}` }, async ({ warmup }) => {
        const items = warmup ? input.slice(0, WARM) : input;
        const t = performance.now();
        const out = await cluster.map((x) => x + 1, items);
        const ms = performance.now() - t;
        if (out.length !== items.length || out[items.length - 1] !== items.length) throw new Error('wrong map result');
        return (items.length / ms) * 1000;
      });
      return perRound('clustrix-connected', `clustrix \`map(x => x + 1, ${fmtN(N)} items)\` through \`Cluster.connect()\` to a service, 2 agents × 1 slot`, 'tasks/s', 'higher', rates);
    } finally {
      await close();
    }
  }, log);
  if (connected) metrics.push(connected);
  if (clx && connected) comparisons.push(comparison('connected-vs-embedded', 'connected tasks/s ÷ embedded tasks/s', connected.median / clx.median, { op: '>=', value: 0.8 }));

  const pools = {};
  for (const pool of ['piscina', 'tinypool']) {
    pools[pool] = await attempt(failures, `${pool} reference`, async () => {
      log(`${pool}: ${N} tasks on 2 threads`);
      const r = await runPool(pool, 'inc', { threads: 2, items: N, rounds: ROUNDS, warmupItems: WARM, budgetMs: pick(45_000, 15_000) });
      return perRound(pool, `reference: ${pool} \`run(i)\` × ${fmtN(N)}, 2 threads, x => x + 1`, 'tasks/s', 'higher', r.rounds.map((ms) => (N / ms) * 1000), { reference: true });
    }, log);
    if (pools[pool]) metrics.push(pools[pool]);
  }

  if (ctx.dask.ok) {
    const dask = await attempt(failures, 'Dask reference', async () => {
      const r = await runDask('map', { warmup: 100, n: DASK_N, rounds: ROUNDS, budgetS: pick(45, 15) });
      return perRound('dask', `reference: Dask \`client.map(inc, range(${fmtN(DASK_N)}))\` + gather, ${r.workers} worker processes × 1 thread`, 'tasks/s', 'higher', r.rounds.map((x) => x.tasksPerS), { reference: true });
    }, log);
    if (dask) metrics.push(dask);
    if (dask && clx) comparisons.push(comparison('vs-dask', 'clustrix tasks/s ÷ Dask tasks/s', clx.median / dask.median, { op: '>=', value: 100 }));
  } else {
    notes.push(`Dask comparison skipped: ${ctx.dask.reason}`);
  }

  if (clx) {
    for (const pool of ['piscina', 'tinypool']) {
      if (pools[pool]) comparisons.push(comparison(`vs-${pool}`, `clustrix tasks/s ÷ ${pool} tasks/s`, clx.median / pools[pool].median));
    }
    const best = Object.values(pools).filter(Boolean).sort((a, b) => b.median - a.median)[0];
    if (best) comparisons.push(comparison('vs-best-pool', `clustrix tasks/s ÷ the better pool's (${best.key})`, clx.median / best.median, { op: '>=', value: 1 }));
  }
  return { metrics, comparisons, notes, failures };
}
