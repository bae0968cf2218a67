// Shared statistics: median, p99 (nearest rank), min, max, mean over a list of numbers.

/** Sorted copy, ascending. */
export function sorted(values) {
  return Float64Array.from(values).sort();
}

export function median(values) {
  if (values.length === 0) return NaN;
  const s = sorted(values);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile, p in (0, 100]. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const s = sorted(values);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[Math.min(rank, s.length) - 1];
}

export const p99 = (values) => percentile(values, 99);

export function min(values) {
  let m = Infinity;
  for (const v of values) if (v < m) m = v;
  return values.length ? m : NaN;
}

export function max(values) {
  let m = -Infinity;
  for (const v of values) if (v > m) m = v;
  return values.length ? m : NaN;
}

export function mean(values) {
  if (values.length === 0) return NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** median, p99, min, max, mean and count of a sample. */
export function summarize(values) {
  return { median: median(values), p99: p99(values), min: min(values), max: max(values), mean: mean(values), n: values.length };
}
