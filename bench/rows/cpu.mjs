// Row 3: CPU-bound fan-out: a function of about 10 ms of pure CPU over 2,000 items, 2 agents × 1
// slot. Wall time against the ideal (serial time measured in this run ÷ cores) and piscina.
import { pick } from '../lib/config.mjs';
import { loadClustrix } from '../lib/clustrix.mjs';
import { burn, calibrateBurn } from '../lib/burn.mjs';
import { attempt, comparison, median, perRound, rounds } from '../lib/metrics.mjs';
import { runPool } from '../lib/refs.mjs';

export const meta = { id: 'cpu', row: 3, title: 'CPU-bound fan-out (~10 ms of CPU × 2,000 items, 2 agents × 1 slot)' };

export async function run(ctx, log) {
  const N = pick(2000, 200);
  const SAMPLE = pick(300, 50);
  const ROUNDS = pick(3, 2);
  const cores = ctx.cores;
  const metrics = [];
  const comparisons = [];
  const notes = [];
  const failures = [];

  const cal = calibrateBurn(10);
  log(`burn(${cal.n}) takes ${cal.ms.toFixed(2)} ms here`);
  const items = new Array(N).fill(cal.n);
  const expected = burn(cal.n);

  // Serial: the same function on this thread; SAMPLE items per round, scaled to N items.
  const serialPerItem = await rounds({ warmup: 0, count: ROUNDS, log, label: `serial ${SAMPLE} items` }, async () => {
    const t = performance.now();
    let x = 0;
    for (let i = 0; i < SAMPLE; i++) x ^= burn(items[i]);
    if (x === 0.5) log('unreachable');
    return (performance.now() - t) / SAMPLE;
  });
  const perItem = median(serialPerItem);
  const serialMs = serialPerItem.map((ms) => ms * N);
  metrics.push(perRound('serial', `serial: the same function on one thread (${SAMPLE} items per round, scaled to ${N})`, 'ms', 'lower', serialMs, { reference: true }));
  const idealMs = (perItem * N) / cores;
  metrics.push(perRound('ideal', `ideal: serial ÷ ${cores} cores`, 'ms', 'lower', serialMs.map((ms) => ms / cores), { reference: true }));

  const clx = await attempt(failures, 'clustrix', async () => {
    const { Cluster } = await loadClustrix();
    const cluster = await Cluster.start({ agents: 2, slots: 1 });
    try {
      const walls = await rounds({ warmup: 1, count: ROUNDS, budgetMs: pick(40_000, 10_000), log, label: `clustrix map ${N}` }, async ({ warmup }) => {
        const batch = warmup ? items.slice(0, 40) : items;
        const t = performance.now();
        // burn(), written out: a shipped function carries no free variables
        const out = await cluster.map((n) => {
          let x = 1;
          for (let i = 0; i < n; i++) x = (Math.imul(x, 1103515245) + 12345) | 0;
          return x;
        }, batch);
        const ms = performance.now() - t;
        if (out.length !== batch.length || out[0] !== expected) throw new Error('wrong results');
        return ms;
      });
      return perRound('clustrix', `clustrix \`map(burn, ${N} items)\`, 2 agents × 1 slot: wall time`, 'ms', 'lower', walls);
    } finally {
      await cluster.close();
    }
  }, log);
  if (clx) {
    metrics.push(clx);
    comparisons.push(comparison('vs-ideal', `clustrix wall ÷ ideal (serial ÷ ${cores} cores)`, clx.median / idealMs, { op: '<=', value: 1.1 }));
  }

  const pis = await attempt(failures, 'piscina reference', async () => {
    const r = await runPool('piscina', 'burn', { threads: cores, items: N, rounds: ROUNDS, warmupItems: 40, arg: cal.n, budgetMs: pick(40_000, 10_000) });
    return perRound('piscina', `reference: piscina, ${cores} threads, same function and items: wall time`, 'ms', 'lower', r.rounds, { reference: true });
  }, log);
  if (pis) {
    metrics.push(pis);
    comparisons.push(comparison('piscina-vs-ideal', 'piscina wall ÷ ideal', pis.median / idealMs));
    if (clx) comparisons.push(comparison('vs-piscina', 'clustrix wall ÷ piscina wall', clx.median / pis.median));
  }
  notes.push(`burn(${cal.n}) ≈ ${perItem.toFixed(2)} ms per item serially (calibrated to 10 ms at the start of the row); ideal uses ${cores} cores`);
  return { metrics, comparisons, notes, failures };
}
