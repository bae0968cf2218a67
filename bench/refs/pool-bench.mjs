// In-process thread-pool references for rows 2 and 3: piscina or tinypool, N threads, one task per
// item, every item submitted at once (the pools queue them), awaited with Promise.all.
//   node pool-bench.mjs POOL WORKER THREADS ITEMS ROUNDS WARMUP_ITEMS [ARG]
//   POOL: piscina | tinypool; WORKER: inc (item i -> i + 1) | burn (every item is ARG iterations)
// Prints one `BENCH_JSON {...}` line: per-round wall times.
import { fileURLToPath } from 'node:url';
import { emitJson } from '../lib/proc.mjs';

const [poolName, worker, threadsS, itemsS, roundsS, warmupS, argS] = process.argv.slice(2);
const threads = Number(threadsS);
const items = Number(itemsS);
const roundCount = Number(roundsS);
const warmupItems = Number(warmupS);
const budgetMs = Number(process.env.BENCH_POOL_BUDGET_MS ?? Infinity);
const filename = fileURLToPath(new URL(`./workers/${worker}.mjs`, import.meta.url));

let pool;
if (poolName === 'piscina') {
  const { Piscina } = await import('piscina');
  pool = new Piscina({ filename, minThreads: threads, maxThreads: threads });
} else if (poolName === 'tinypool') {
  const { Tinypool } = await import('tinypool');
  pool = new Tinypool({ filename, minThreads: threads, maxThreads: threads });
} else {
  throw new Error(`unknown pool ${poolName}`);
}

const input = (n) => (worker === 'inc' ? Array.from({ length: n }, (_, i) => i) : new Array(n).fill(Number(argS)));
const check = (inp, out) => {
  if (out.length !== inp.length) throw new Error('wrong result count');
  if (worker === 'inc' && (out[0] !== 1 || out[out.length - 1] !== inp.length)) throw new Error('wrong results');
};

async function once(n) {
  const inp = input(n);
  const t = performance.now();
  const out = await Promise.all(inp.map((x) => pool.run(x)));
  const ms = performance.now() - t;
  check(inp, out);
  return ms;
}

await once(warmupItems);
const rounds = [];
const began = performance.now();
for (let r = 0; r < roundCount; r++) {
  if (r >= 2 && performance.now() - began > budgetMs) break;
  const ms = await once(items);
  rounds.push(ms);
  process.stderr.write(`${poolName} ${worker} round ${r + 1}/${roundCount}: ${items} tasks in ${ms.toFixed(0)} ms = ${Math.round((items / ms) * 1000)} tasks/s\n`);
}
await pool.destroy();
emitJson({ pool: poolName, worker, threads, items, rounds });
