// bench/run.mjs: clustrix benchmarks. `npm run bench` builds, then runs every row; or
//   node bench/run.mjs [row...]      e.g. node bench/run.mjs roundtrip throughput
//   BENCH_QUICK=1 node bench/run.mjs small sizes, few rounds (development)
// Each row runs in its own process (bench/lib/row-child.mjs). A full run of every row writes
// bench/results/latest.json and latest.md; a partial or quick run writes bench/results/last-run.*
// (not committed). See bench/README.md.
import { fork } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { QUICK } from './lib/config.mjs';
import { ensureDask, machineInfo } from './lib/env.mjs';
import { logger } from './lib/log.mjs';
import { markdown } from './lib/report.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const log = logger('run');

// Order matters a little: the heavy rows (many agents, 1M items) come after the latency rows.
// share: the row's weight in the run's time budget (see the deadline below).
// limitS: the runner stops a row that overruns this (a safety net; rows budget their own rounds).
// execArgv: node flags of the row's process (row 10 measures memory after full GCs).
const ROWS = [
  { id: 'roundtrip', row: 1, share: 35, limitS: 180, dask: true },
  { id: 'throughput', row: 2, share: 160, limitS: 360, dask: true },
  { id: 'cpu', row: 3, share: 90, limitS: 300 },
  { id: 'broadcast', row: 4, share: 55, limitS: 240 },
  { id: 'coldstart', row: 5, share: 20, limitS: 150 },
  { id: 'large', row: 6, share: 30, limitS: 150 },
  { id: 'memory', row: 7, share: 90, limitS: 360 },
  { id: 'actors', row: 8, share: 15, limitS: 150 },
  { id: 'slurm', row: 9, share: 15, limitS: 240 },
  { id: 'dispatch', row: 10, share: 60, limitS: 300, execArgv: ['--expose-gc'] },
  { id: 'fairshare', row: 11, share: 30, limitS: 240 },
  { id: 'objects', row: 12, share: 40, limitS: 300 },
  { id: 'adapt', row: 13, share: 30, limitS: 240 },
];

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h') || args.includes('--list')) {
  console.log(`usage: node bench/run.mjs [${ROWS.map((r) => r.id).join(' ')}]\n(no row: all of them; BENCH_QUICK=1 for a quick run)`);
  process.exit(0);
}
const unknown = args.filter((a) => !ROWS.some((r) => r.id === a || String(r.row) === a));
if (unknown.length) {
  console.error(`unknown row(s): ${unknown.join(', ')}; rows: ${ROWS.map((r) => r.id).join(', ')}`);
  process.exit(2);
}
const selected = args.length ? ROWS.filter((r) => args.includes(r.id) || args.includes(String(r.row))) : ROWS;
const fullRun = !QUICK && selected.length === ROWS.length;

// BENCH_BUILD=/path/to/dist measures another build (e.g. of a clean checkout of a commit, named by
// BENCH_COMMIT) with this harness; the default is this work tree's dist/.
const BUILD = process.env.BENCH_BUILD ? process.env.BENCH_BUILD.replace(/\/$/, '') : `${ROOT}dist`;
if (!existsSync(`${BUILD}/coordinator/index.js`) || !existsSync(`${BUILD}/bundle/agent.mjs`)) {
  console.error(`no build found in ${BUILD}: run \`npm run build\` first (\`npm run bench\` does both)`);
  process.exit(2);
}

const started = Date.now();
const startedAt = new Date(started).toISOString();
const loadAtStart = os.loadavg();
log(`${QUICK ? 'QUICK mode' : 'full mode'}; rows: ${selected.map((r) => r.id).join(' ')}; load ${loadAtStart.map((x) => x.toFixed(2)).join(' ')}`);
if (loadAtStart[0] > os.availableParallelism()) {
  log(`note: load average ${loadAtStart[0].toFixed(1)} on ${os.availableParallelism()} CPUs: other work is running, numbers will be noisy`);
}

// Snapshot the build: other people may rebuild dist/ while this runs.
let snapshot = null;
if (process.env.BENCH_NO_SNAPSHOT !== '1') {
  snapshot = `${HERE}.snapshot/${process.pid}`;
  rmSync(snapshot, { recursive: true, force: true });
  mkdirSync(snapshot, { recursive: true });
  cpSync(BUILD, `${snapshot}/dist`, { recursive: true });
}
const cleanupSnapshot = () => {
  if (!snapshot) return;
  rmSync(snapshot, { recursive: true, force: true });
  try {
    rmdirSync(`${HERE}.snapshot`); // only when no other run's snapshot is left
  } catch {
    /* another run is using it */
  }
};
process.on('exit', cleanupSnapshot);

const env = await machineInfo();
if (process.env.BENCH_BUILD) {
  env.git = { commit: process.env.BENCH_COMMIT ?? null, uncommittedCoreFiles: null, build: BUILD };
}
const dask = selected.some((r) => r.dask) ? ensureDask(log) : { ok: false, reason: 'not needed by the selected rows' };
if (dask.ok) log(`Dask ${dask.versions.distributed} available`);

const ctx = { quick: QUICK, dask, cores: os.availableParallelism() };
// Time budget: each row gets a soft deadline, its share of the time left (by weight among the rows
// still to run); past it a row stops adding rounds beyond its minimum (lib/config.mjs timeLeftMs),
// and row 7 shortens its input. The default leaves room for `npm run build` within 10 minutes.
// BENCH_BUDGET_S=0: no deadlines (every row runs all its rounds).
const budgetS = Number(process.env.BENCH_BUDGET_S ?? (QUICK ? 240 : 480));
const rowDeadline = (def) => {
  if (!(budgetS > 0)) return 0;
  const left = started + budgetS * 1000 - Date.now();
  const weights = selected.slice(selected.indexOf(def)).reduce((s, r) => s + r.share, 0);
  return Date.now() + Math.max(0, left) * (def.share / weights);
};
let current = null;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    current?.kill('SIGTERM');
    setTimeout(() => process.exit(130), 2000);
  });
}

const rows = [];
for (const def of selected) {
  const t0 = performance.now();
  const loadBefore = os.loadavg();
  log(`row ${def.row}: ${def.id} (load ${loadBefore[0].toFixed(2)})`);
  const result = await runRow(def);
  const durationMs = performance.now() - t0;
  const mod = await import(`./rows/${def.id}.mjs`).catch(() => ({ meta: {} }));
  rows.push({ id: def.id, row: def.row, title: mod.meta?.title ?? def.id, durationMs, loadBefore, loadAfter: os.loadavg(), ...result });
  log(`row ${def.row}: ${def.id} ${result.status} in ${(durationMs / 1000).toFixed(1)} s`);
}

const run = {
  startedAt,
  durationMs: Date.now() - started,
  quick: QUICK,
  fullRun,
  loadAtStart,
  env,
  dask: { ok: dask.ok, reason: dask.reason ?? null, versions: dask.versions ?? null },
  budgetS,
  rows,
};
const md = markdown(run);
mkdirSync(`${HERE}results`, { recursive: true });
const base = process.env.BENCH_OUT ?? (fullRun ? 'latest' : 'last-run');
writeFileSync(`${HERE}results/${base}.json`, `${JSON.stringify(run, null, 2)}\n`);
writeFileSync(`${HERE}results/${base}.md`, md);
process.stdout.write(`\n${md}\n`);
log(`wrote bench/results/${base}.json and .md (${((Date.now() - started) / 1000).toFixed(0)} s)`);
cleanupSnapshot();
process.exit(rows.some((r) => r.status === 'failed') ? 1 : 0);

function runRow(def) {
  return new Promise((resolve) => {
    const child = fork(`${HERE}lib/row-child.mjs`, [def.id], {
      execArgv: def.execArgv ?? [],
      env: { ...process.env, BENCH_CTX: JSON.stringify(ctx), BENCH_DEADLINE: String(rowDeadline(def)), ...(snapshot ? { BENCH_DIST: `${snapshot}/dist` } : process.env.BENCH_BUILD ? { BENCH_DIST: BUILD } : {}) },
      stdio: ['pipe', 'inherit', 'inherit', 'ipc'],
    });
    current = child;
    let result = null;
    const limitMs = def.limitS * 1000 * (QUICK ? 0.5 : 1);
    const timer = setTimeout(() => {
      result = { status: 'failed', error: `stopped by the runner after ${def.limitS} s (row time limit)` };
      log(`row ${def.id} overran its ${def.limitS} s limit: stopping it`);
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }, limitMs);
    child.on('message', (m) => (result ??= m));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      current = null;
      resolve(result ?? { status: 'failed', error: `row process exited with ${signal ?? code} without a result` });
    });
  });
}
