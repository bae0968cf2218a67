// Row 9: SLURM: Cluster.start({ backend: 'slurm', agents: 1 }) to ready, against a bare
// `sbatch --wrap true` turnaround (submit → gone from the queue). Skipped when sbatch is absent,
// when clustrix does not support backend 'slurm' yet (detected at run time), or when no SLURM
// controller answers (start one with test/infra/slurm-up.sh).
// The test cluster's nodes live in network namespaces and reach this machine (the login node)
// only at its bridge address, so the coordinator advertises that: CLUSTRIX_TEST_LOGIN_ADDR
// (test/infra/env.sh), else SlurmctldHost's address from `scontrol show config` (slurmctld runs
// here, on the address the nodes use for it).
import { spawnSync } from 'node:child_process';
import { pick } from '../lib/config.mjs';
import { loadClustrix } from '../lib/clustrix.mjs';
import { attempt, comparison, perRound, rounds } from '../lib/metrics.mjs';

export const meta = { id: 'slurm', row: 9, title: 'SLURM: Cluster.start to ready vs bare sbatch turnaround' };

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

export function skip() {
  return slurmSkipReason();
}

/** Why SLURM rows cannot run here, or null (also used by row 13). */
export async function slurmSkipReason() {
  if (!has('sbatch')) return 'sbatch is not installed';
  const { Cluster } = await loadClustrix();
  // Probe with an invalid agent count: an unsupported backend is refused before anything starts;
  // a supported one fails on `agents` instead (validation happens before any job is submitted).
  try {
    const c = await Cluster.start({ backend: 'slurm', agents: -1 });
    await c.close();
  } catch (err) {
    if (/backend/i.test(String(err?.message))) return `clustrix has no SLURM backend yet (${String(err.message).split('\n')[0]})`;
  }
  if (spawnSync('sinfo', ['-h'], { stdio: 'ignore', timeout: 10_000 }).status !== 0) {
    return 'no SLURM controller answers `sinfo` (start one with test/infra/slurm-up.sh)';
  }
  return null;
}

/** The address this machine has on the nodes' network (see the file comment). */
export function loginAddress() {
  if (process.env.CLUSTRIX_TEST_LOGIN_ADDR) return process.env.CLUSTRIX_TEST_LOGIN_ADDR;
  const config = spawnSync('scontrol', ['show', 'config'], { encoding: 'utf8', timeout: 10_000 }).stdout ?? '';
  return /^SlurmctldHost\[0\]\s*=\s*[^(\s]+\(([^)]+)\)/m.exec(config)?.[1] ?? '127.0.0.1';
}

export function sbatchTurnaround() {
  const t0 = performance.now();
  const sub = spawnSync('sbatch', ['--parsable', '--wrap', 'true', '-o', '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
  if (sub.status !== 0) throw new Error(`sbatch failed: ${sub.stderr}`);
  const id = sub.stdout.trim().split(';')[0];
  return new Promise((resolve, reject) => {
    const poll = () => {
      const q = spawnSync('squeue', ['-h', '-j', id], { encoding: 'utf8' });
      // gone: listed no more, or already purged ("Invalid job id specified")
      if ((q.status === 0 && q.stdout.trim() === '') || /invalid job id/i.test(q.stderr ?? '')) resolve(performance.now() - t0);
      else if (performance.now() - t0 > 120_000) reject(new Error(`job ${id} still queued after 120 s`));
      else setTimeout(poll, 20);
    };
    poll();
  });
}

export async function run(ctx, log) {
  const ROUNDS = pick(3, 2);
  const metrics = [];
  const comparisons = [];
  const failures = [];
  const { Cluster } = await loadClustrix();
  const advertiseHost = loginAddress();
  const clx = await attempt(failures, 'clustrix', () => rounds({ warmup: 1, count: ROUNDS, log, label: 'Cluster.start slurm' }, async () => {
    const t0 = performance.now();
    // scheduler commands run on this machine (no `ssh` option); one 1-CPU job
    const cluster = await Cluster.start({ backend: 'slurm', agents: 1, slots: 1, advertiseHost, resources: { cpusPerTask: 1, time: '00:10:00' }, startTimeoutMs: 120_000 });
    const ms = performance.now() - t0;
    if ((await cluster.run((x) => x + 1, 1)) !== 2) throw new Error('wrong result from the SLURM agent');
    await cluster.close();
    return ms;
  }), log);
  if (clx) metrics.push(perRound('start', "clustrix `Cluster.start({ backend: 'slurm', agents: 1, slots: 1 })` → ready (sbatch on this machine)", 'ms', 'lower', clx));
  const ref = await attempt(failures, 'sbatch reference', () => rounds({ warmup: 1, count: ROUNDS, log, label: 'sbatch --wrap true' }, sbatchTurnaround), log);
  if (ref) metrics.push(perRound('sbatch', 'reference: `sbatch --wrap true` submit → gone from the queue', 'ms', 'lower', ref, { reference: true }));
  if (clx && ref) comparisons.push(comparison('vs-sbatch', 'Cluster.start ÷ sbatch turnaround', metrics[0].median / metrics[1].median));
  return { metrics, comparisons, notes: [], failures };
}
