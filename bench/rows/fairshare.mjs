// Row 11: an interactive client beside a batch. A service in this process (2 agents × 1 slot),
// two `Cluster.connect()` clients as in the issue (`clustrix up`, one program mapping, another
// doing awaited runs): the batch client is a program of its own (lib/fairshare-batch.mjs, a child
// process) that maps N trivial tasks; the interactive client, in this process beside the service,
// does awaited `run`s, one every few ms, until the map ends. Its latency, next to the same runs
// on the idle pool.
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pick } from '../lib/config.mjs';
import { loadClustrix } from '../lib/clustrix.mjs';
import { attempt, comparison, latency } from '../lib/metrics.mjs';
import { spawnTracked } from '../lib/proc.mjs';

export const meta = { id: 'fairshare', row: 11, title: 'Interactive run beside a 100,000-task map of another client (its own process)' };

const BATCH = fileURLToPath(new URL('../lib/fairshare-batch.mjs', import.meta.url));
const MARK = 'BENCH_JSON ';
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

/** Starts the batch program; `mapping` resolves when its map has started, `done` with its result line. */
function startBatch(opts, n, log) {
  const child = spawnTracked(process.execPath, [BATCH], { env: process.env });
  let out = '';
  let err = '';
  let onMapping;
  const mapping = new Promise((resolve) => (onMapping = resolve));
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => {
    out += d;
    if (out.includes('MAPPING\n')) onMapping();
  });
  child.stderr.on('data', (d) => {
    err = (err + d).slice(-4000);
    for (const line of d.split('\n')) if (line.trim()) log(`(batch) ${line}`);
  });
  const done = new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const line = out.split('\n').find((l) => l.startsWith(MARK));
      if (code === 0 && line) resolve(JSON.parse(line.slice(MARK.length)));
      else reject(new Error(`the batch client exited with ${signal ?? code}: ${err.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
  // Should it fail before its map starts, the wait for `mapping` must end too.
  done.catch(() => onMapping());
  child.stdin.write(`${JSON.stringify({ ...opts, n })}\n`);
  return { mapping, done, child };
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
    let interactive = null;
    let batch = null;
    try {
      const opts = { address: service.address, credential: service.credential };
      interactive = await Cluster.connect(opts);
      await interactive.run((x) => x, 0);
      log(`idle: ${IDLE} awaited runs`);
      const idle = await interactiveRuns(interactive, (i) => i >= IDLE);
      log(`busy: awaited runs while the batch client (its own process) maps ${N} tasks`);
      batch = startBatch(opts, N, log);
      await batch.mapping;
      let mapping = true;
      const finished = batch.done.finally(() => (mapping = false));
      const busy = await interactiveRuns(interactive, () => !mapping);
      const result = await finished;
      log(`map of ${N} took ${(result.ms / 1000).toFixed(1)} s; ${busy.length} runs beside it`);
      const idleM = latency('idle', 'awaited `run` through `Cluster.connect()`, idle pool (2 agents × 1 slot)', [idle]);
      const busyM = latency('busy', `the same while another client (its own process) maps ${N} trivial tasks on the pool`, [busy]);
      metrics.push(idleM, busyM);
      comparisons.push(comparison('busy-p99-ms', 'p99 of the interactive run beside the batch, ms (goal: <= 5 ms)', busyM.p99, { op: '<=', value: 5 }));
      comparisons.push(comparison('busy-vs-idle-p99', 'p99 beside the batch ÷ p99 on the idle pool', busyM.p99 / idleM.p99));
    } finally {
      if (batch && batch.child.exitCode === null) batch.child.kill('SIGTERM');
      await interactive?.close();
      await service.stop('bench done');
    }
  }, log);
  return {
    metrics,
    comparisons,
    notes: ['the service, its agents (2 × 1 slot) and the interactive client run in the bench process and its children; the batch client is a process of its own (lib/fairshare-batch.mjs); the machine was shared with other work'],
    failures,
  };
}
