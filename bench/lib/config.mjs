// Mode switches shared by every row. BENCH_QUICK=1: small sizes and few rounds, for development;
// its numbers are not comparable with a full run's.
export const QUICK = process.env.BENCH_QUICK === '1';

/** The full-mode value, or the quick-mode one under BENCH_QUICK=1. */
export function pick(full, quick) {
  return QUICK ? quick : full;
}

/** Where Debian's Dask lives: always /usr/bin/python3 (a pyenv/venv python cannot see dist-packages). */
export const PYTHON = process.env.BENCH_PYTHON || '/usr/bin/python3';

/**
 * Milliseconds left before the run's soft deadline (BENCH_DEADLINE, epoch ms, set by run.mjs so
 * that a whole run stays under its time budget); Infinity when there is none. Past it, rows stop
 * adding rounds beyond their minimum.
 */
export function timeLeftMs() {
  const d = Number(process.env.BENCH_DEADLINE);
  return Number.isFinite(d) && d > 0 ? d - Date.now() : Infinity;
}

/** The context the runner hands to each row (JSON in BENCH_CTX). */
export function rowContext() {
  const raw = process.env.BENCH_CTX;
  return raw ? JSON.parse(raw) : { quick: QUICK, dask: { ok: false, reason: 'no context from bench/run.mjs' } };
}
