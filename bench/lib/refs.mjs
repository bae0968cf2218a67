// Starting the out-of-process references: Dask (Python) and the thread pools.
import { fileURLToPath } from 'node:url';
import { PYTHON, timeLeftMs } from './config.mjs';
import { runJson } from './proc.mjs';

const DASK_SCRIPT = fileURLToPath(new URL('../refs/dask_bench.py', import.meta.url));
const POOL_SCRIPT = fileURLToPath(new URL('../refs/pool-bench.mjs', import.meta.url));

/** dask_bench.py MODE WARMUP N ROUNDS; resolves with its JSON result. */
export function runDask(mode, { warmup, n, rounds, budgetS = 1e9, timeoutMs = 240_000 }) {
  budgetS = Math.max(0, Math.min(budgetS, timeLeftMs() / 1000));
  return runJson(PYTHON, [DASK_SCRIPT, mode, String(warmup), String(n), String(rounds)], {
    prefix: 'dask',
    timeoutMs,
    env: { ...process.env, BENCH_WATCH_STDIN: '1', BENCH_DASK_BUDGET_S: String(budgetS), PYTHONUNBUFFERED: '1' },
  });
}

/** pool-bench.mjs in its own process; resolves with { rounds: [ms...] }. */
export function runPool(pool, worker, { threads, items, rounds, warmupItems, arg = 0, budgetMs = Infinity, timeoutMs = 300_000 }) {
  budgetMs = Math.max(0, Math.min(budgetMs, timeLeftMs()));
  return runJson(process.execPath, [POOL_SCRIPT, pool, worker, String(threads), String(items), String(rounds), String(warmupItems), String(arg)], {
    prefix: pool,
    timeoutMs,
    env: { ...process.env, BENCH_POOL_BUDGET_MS: String(budgetMs) },
  });
}
