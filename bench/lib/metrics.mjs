// Result records every row returns: metrics (what was measured, with spread) and comparisons
// (ratios against references measured in the same run, with the issue's goal when it has one).
import { timeLeftMs } from './config.mjs';
import { summarize, median, min, max } from './stats.mjs';

/**
 * A latency: every sample (one operation each) counts for median/p99/min/max; `rounds` keeps each
 * round's median, so a noisy round shows.
 * @param {number[][]} perRound samples of each round, in ms
 */
export function latency(key, label, perRound, extra = {}) {
  const all = perRound.flat();
  const s = summarize(all);
  return {
    key, label, kind: 'latency', unit: 'ms', better: 'lower',
    median: s.median, p99: s.p99, min: s.min, max: s.max, mean: s.mean, n: s.n,
    rounds: perRound.map((r) => median(r)),
    ...extra,
  };
}

/**
 * One value per round (a wall time, a rate, a size): median over rounds, min–max over rounds.
 * @param {'ms'|'tasks/s'|'calls/s'|'MB/s'|'MB'|'x'} unit
 */
export function perRound(key, label, unit, better, values, extra = {}) {
  return {
    key, label, kind: 'value', unit, better,
    median: median(values), p99: null, min: min(values), max: max(values), n: values.length,
    rounds: values,
    ...extra,
  };
}

/** Like perRound, but over individual samples (n counts samples, not rounds). */
export function perSample(key, label, unit, better, values, extra = {}) {
  return perRound(key, label, unit, better, values, { nUnit: 'samples', ...extra });
}

/**
 * A ratio against a reference. `goal`: { op: '<=' | '>=', value } or null when the issue sets none.
 * `text` explains the ratio's direction, e.g. "clustrix RTT / ws echo RTT". `extra.unit` (e.g. 'ms')
 * marks a value against an absolute goal rather than a ratio, so the report prints it in that unit.
 */
export function comparison(key, text, ratio, goal = null, extra = {}) {
  const met = goal === null || !Number.isFinite(ratio) ? null : goal.op === '<=' ? ratio <= goal.value : ratio >= goal.value;
  return { key, text, ratio, goal, met, ...extra };
}

/**
 * Runs one subject of a row; a failure is recorded (the row is then reported as failed) and the
 * row goes on with its other subjects. Resolves with fn's value, or null when it threw.
 */
export async function attempt(failures, label, fn, log) {
  try {
    return await fn();
  } catch (err) {
    const msg = String(err?.message ?? err).split('\n')[0];
    log?.(`${label} FAILED: ${err?.stack ?? err}`);
    failures.push(`${label}: ${err?.name && err.name !== 'Error' ? `${err.name}: ` : ''}${msg}`);
    return null;
  }
}

/**
 * Runs `fn` for warm-up then measured rounds; stops adding rounds past `budgetMs` once
 * `minRounds` are done (also once past the run's deadline, see timeLeftMs). Returns the measured rounds' return values.
 */
export async function rounds({ warmup = 1, count, budgetMs = Infinity, minRounds = 2, log, label = '' }, fn) {
  for (let i = 0; i < warmup; i++) {
    log?.(`${label} warm-up ${i + 1}/${warmup}`);
    await fn({ warmup: true, i });
  }
  const out = [];
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    if (i >= minRounds && performance.now() - t0 > budgetMs) {
      log?.(`${label} stopping after ${i} rounds: over the ${Math.round(budgetMs / 1000)} s budget`);
      break;
    }
    if (i >= minRounds && timeLeftMs() <= 0) {
      log?.(`${label} stopping after ${i} rounds: past the run's deadline`);
      break;
    }
    const v = await fn({ warmup: false, i });
    out.push(v);
    log?.(`${label} round ${i + 1}/${count}: ${describe(v)}`);
  }
  return out;
}

function describe(v) {
  if (typeof v === 'number') return v.toFixed(3);
  if (Array.isArray(v)) return `${v.length} samples, median ${median(v).toFixed(3)}`;
  if (v && typeof v === 'object') {
    return Object.entries(v)
      .filter(([, x]) => typeof x === 'number')
      .map(([k, x]) => `${k}=${x.toFixed(3)}`)
      .join(' ');
  }
  return String(v);
}

export { median, min, max };
