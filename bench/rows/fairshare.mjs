// Row 11: an interactive client beside a batch. A service in this process (2 agents × 1 slot),
// two `Cluster.connect()` clients: one maps N trivial tasks, the other does awaited `run`s, one
// every few ms, until the map ends. Its latency, next to the same runs on the idle pool.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pick } from '../lib/config.mjs';
import { loadClustrix } from '../lib/clustrix.mjs';
import { attempt, comparison, latency } from '../lib/metrics.mjs';

export const meta = { id: 'fairshare', row: 11, title: 'Interactive run beside a 100,000-task map of another client' };

const pause = (ms) => new Promise((res) => setTimeout(res, ms));

async function interactiveRuns(cluster, until) {
  const lat = [];
  for (let i = 0; !until(i); i++) {
    const t = performance.now();
    if ((await cluster.run((x) => x + 1, i)) !== i + 1) throw new Error('wrong run result');
    lat.push(performance.now() - t);
    await pause(5);
  }
  return lat;
}

export async function run(ctx, log) {
  const N = pick(100_000, 10_000);
  const IDLE = pick(300, 100);
  const metrics = [];
  const comparisons = [];
  const failures = [];
  const { Cluster } = await loadClustrix();
  const dist = process.env.BENCH_DIST;
  const { ClusterService } = await import(dist ? pathToFileURL(join(dist, 'coordinator', 'service', 'index.js')).href : new URL('../../dist/coordinator/service/index.js', import.meta.url).href);
  await attempt(failures, 'clustrix', async () => {
    const service = await ClusterService.start({ profile: 'bench-fair', cluster: { agents: 2, slots: 1 }, writeStateFile: false });
    const clients = [];
    try {
      const opts = { address: service.address, credential: service.credential };
      const batch = await Cluster.connect(opts);
      const interactive = await Cluster.connect(opts);
      clients.push(batch, interactive);
      await interactive.run((x) => x, 0);
      log(`idle: ${IDLE} awaited runs`);
      const idle = await interactiveRuns(interactive, (i) => i >= IDLE);
      log(`busy: awaited runs while the other client maps ${N} tasks`);
      let mapping = true;
      const t = performance.now();
      const map = batch.map((x) => x + 1, Array.from({ length: N }, (_, i) => i)).finally(() => (mapping = false));
      const busy = await interactiveRuns(interactive, () => !mapping);
      const out = await map;
      if (out.length !== N) throw new Error('wrong map result');
      log(`map of ${N} took ${((performance.now() - t) / 1000).toFixed(1)} s; ${busy.length} runs beside it`);
      const idleM = latency('idle', 'awaited `run` through `Cluster.connect()`, idle pool (2 agents × 1 slot)', [idle]);
      const busyM = latency('busy', `the same while another client maps ${N} trivial tasks on the pool`, [busy]);
      metrics.push(idleM, busyM);
      comparisons.push(comparison('busy-p99-ms', 'p99 of the interactive run beside the batch, ms (goal: <= 5 ms)', busyM.p99, { op: '<=', value: 5 }));
      comparisons.push(comparison('busy-vs-idle-p99', 'p99 beside the batch ÷ p99 on the idle pool', busyM.p99 / idleM.p99));
    } finally {
      for (const c of clients) await c.close();
      await service.stop('bench done');
    }
  }, log);
  return { metrics, comparisons, notes: ['service, both clients and the bench run in one process; the machine was shared with other work'], failures };
}
