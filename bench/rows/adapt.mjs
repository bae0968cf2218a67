// Row 13: adaptive scaling (cluster.adapt / pool option `adapt`). A pool at 0 agents with
// adapt { min: 0, max, idleMs }; each round a burst of queued work (a map of short tasks) arrives:
//   grow   = the map's call → the first agent ready, and → every agent it grew (max) ready;
//   shrink = the burst's last result → every agent stopped (the local agents' processes gone; on
//            SLURM, the job gone from squeue: cancelled), of which idleMs is waited on purpose.
// References, same run: a static Cluster.start({ agents: max }) → ready (what launching the same
// agents costs without adapt), and idleMs itself (the shrink's floor by design). On SLURM (when
// `sinfo` answers, see row 9) the same with one job, against a bare `sbatch --wrap true` turnaround.
import { spawnSync } from 'node:child_process';
import { pick } from '../lib/config.mjs';
import { loadClustrix } from '../lib/clustrix.mjs';
import { attempt, comparison, perRound, rounds } from '../lib/metrics.mjs';
import { loginAddress, sbatchTurnaround, slurmSkipReason } from './slurm.mjs';

export const meta = { id: 'adapt', row: 13, title: 'Adaptive scaling: burst → agents ready, idle → agents stopped / jobs cancelled' };

const MAX = 2;
const IDLE_MS = 1_000;

/** Keeps its thread busy for `ms` (the burst's tasks: short, so the burst ends soon after the grow). */
function spin(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return ms;
}

/** Resolves with performance.now() at the first agents list (event or now) for which `ok` holds. */
function when(cluster, ok, what, timeoutMs = 120_000) {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (err, t) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      cluster.off('agents', listener);
      if (err) reject(err);
      else resolve(t);
    };
    const listener = (agents) => {
      if (ok(agents)) finish(null, performance.now());
    };
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
    cluster.on('agents', listener);
    cluster.agents().then((a) => ok(a) && finish(null, performance.now()), (err) => finish(err));
  });
}

const readyCount = (agents) => agents.filter((a) => a.state === 'ready').length;

/** Whether a process is gone (the local agent exited). */
function gone(pid) {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

async function waitFor(check, what, timeoutMs = 60_000) {
  const t0 = performance.now();
  while (!check()) {
    if (performance.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return performance.now();
}

/** One burst on an adaptive pool at 0: grow and shrink times; `stopped(agents)` resolves when the grown agents are gone for real. */
async function burst(cluster, { items, taskMs, want, stopped }) {
  const t0 = performance.now();
  const firstReady = when(cluster, (a) => readyCount(a) >= 1, 'the first agent ready');
  const allReady = when(cluster, (a) => readyCount(a) >= want, `${want} agents ready`);
  const out = await cluster.map(spin, Array.from({ length: items }, () => taskMs));
  const tIdle = performance.now();
  if (out.length !== items) throw new Error('wrong result from the burst');
  const [tFirst, tAll] = await Promise.all([firstReady, allReady]);
  // Within idleMs of the burst: every agent it grew is still there.
  const grown = await cluster.agents();
  const tEmpty = await when(cluster, (a) => a.length === 0, 'every agent stopped');
  const tGone = await stopped(grown);
  return { firstMs: tFirst - t0, allMs: tAll - t0, listMs: tEmpty - tIdle, shrinkMs: Math.max(tEmpty, tGone) - tIdle };
}

export async function run(ctx, log) {
  const ROUNDS = pick(4, 2);
  const metrics = [];
  const comparisons = [];
  const notes = [];
  const failures = [];
  const { Cluster } = await loadClustrix();

  // Local backend.
  const adaptive = await attempt(failures, 'local adapt', async () => {
    const cluster = await Cluster.start({ agents: 0, slots: 1, adapt: { min: 0, max: MAX, idleMs: IDLE_MS } });
    try {
      return await rounds({ warmup: 1, count: ROUNDS, log, label: 'local burst' }, () =>
        burst(cluster, { items: 8 * MAX, taskMs: 20, want: MAX, stopped: (agents) => waitFor(() => agents.every((a) => gone(a.pid)), 'the agent processes gone') }),
      );
    } finally {
      await cluster.close();
    }
  }, log);
  const staticStart = await attempt(failures, 'static start', () => rounds({ warmup: 1, count: ROUNDS, log, label: `Cluster.start agents: ${MAX}` }, async () => {
    const t0 = performance.now();
    const cluster = await Cluster.start({ agents: MAX, slots: 1 });
    const ms = performance.now() - t0;
    await cluster.close();
    return ms;
  }), log);
  if (adaptive) {
    metrics.push(perRound('grow-first', `local, adapt { min: 0, max: ${MAX}, idleMs: ${IDLE_MS} }: burst (map of ${8 * MAX} × 20 ms) → first agent ready`, 'ms', 'lower', adaptive.map((r) => r.firstMs)));
    metrics.push(perRound('grow-all', `local: burst → all ${MAX} agents ready`, 'ms', 'lower', adaptive.map((r) => r.allMs)));
    metrics.push(perRound('shrink', `local: burst's last result → every agent stopped (processes exited; idleMs ${IDLE_MS} ms included)`, 'ms', 'lower', adaptive.map((r) => r.shrinkMs)));
    metrics.push(perRound('shrink-over-idle', 'local: the same beyond idleMs (detection + stop)', 'ms', 'lower', adaptive.map((r) => r.shrinkMs - IDLE_MS)));
  }
  if (staticStart) metrics.push(perRound('static-start', `reference: static \`Cluster.start({ agents: ${MAX}, slots: 1 })\` → ready`, 'ms', 'lower', staticStart, { reference: true }));
  if (adaptive && staticStart) comparisons.push(comparison('grow-vs-start', `local: burst → ${MAX} agents ready ÷ static start of ${MAX} agents`, metrics.find((m) => m.key === 'grow-all').median / metrics.find((m) => m.key === 'static-start').median));
  if (adaptive) comparisons.push(comparison('shrink-vs-idle', 'local: idle → agents stopped ÷ idleMs (1 = stopped the moment idleMs passed)', metrics.find((m) => m.key === 'shrink').median / IDLE_MS));

  // SLURM, when the test cluster is up.
  const skip = await slurmSkipReason();
  if (skip) {
    notes.push(`SLURM part skipped: ${skip}`);
    return { metrics, comparisons, notes, failures };
  }
  const advertiseHost = loginAddress();
  const slurm = await attempt(failures, 'slurm adapt', async () => {
    const cluster = await Cluster.start({ backend: 'slurm', agents: 0, slots: 1, advertiseHost, resources: { cpusPerTask: 1, time: '00:10:00' }, startTimeoutMs: 120_000, adapt: { min: 0, max: 1, idleMs: IDLE_MS } });
    try {
      const jobGone = (agents) => {
        const jobs = agents.map((a) => a.jobId).filter(Boolean);
        return waitFor(() => jobs.every((id) => spawnSync('squeue', ['-h', '-j', id], { encoding: 'utf8' }).stdout.trim() === ''), `jobs ${jobs.join(', ')} gone from squeue`, 120_000);
      };
      return await rounds({ warmup: 1, count: pick(3, 2), log, label: 'slurm burst' }, () => burst(cluster, { items: 4, taskMs: 20, want: 1, stopped: jobGone }));
    } finally {
      await cluster.close();
    }
  }, log);
  const sbatch = await attempt(failures, 'sbatch reference', () => rounds({ warmup: 1, count: pick(3, 2), log, label: 'sbatch --wrap true' }, sbatchTurnaround), log);
  if (slurm) {
    metrics.push(perRound('slurm-grow', 'SLURM, adapt { min: 0, max: 1 }: burst → the job\'s agent ready', 'ms', 'lower', slurm.map((r) => r.allMs)));
    metrics.push(perRound('slurm-shrink', `SLURM: burst's last result → the job gone from squeue (cancelled; idleMs ${IDLE_MS} ms included)`, 'ms', 'lower', slurm.map((r) => r.shrinkMs)));
  }
  if (sbatch) metrics.push(perRound('sbatch', 'reference: `sbatch --wrap true` submit → gone from the queue', 'ms', 'lower', sbatch, { reference: true }));
  if (slurm && sbatch) comparisons.push(comparison('slurm-grow-vs-sbatch', 'SLURM: burst → agent ready ÷ sbatch turnaround', metrics.find((m) => m.key === 'slurm-grow').median / metrics.find((m) => m.key === 'sbatch').median));
  if (slurm) comparisons.push(comparison('slurm-shrink-vs-idle', 'SLURM: idle → job gone ÷ idleMs', metrics.find((m) => m.key === 'slurm-shrink').median / IDLE_MS));
  return { metrics, comparisons, notes, failures };
}
