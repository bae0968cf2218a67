// The CPU-bound task of row 3: `n` rounds of an integer LCG, pure CPU, no allocation. The same
// function runs serially (the ideal's baseline), on clustrix agents (shipped by source: it must stay
// self-contained, no free variables) and in the piscina/tinypool workers.
export function burn(n) {
  let x = 1;
  for (let i = 0; i < n; i++) x = (Math.imul(x, 1103515245) + 12345) | 0;
  return x;
}

/** Iterations of burn() that take about `targetMs` on this thread (after a warm-up). */
export function calibrateBurn(targetMs = 10) {
  let n = 100_000;
  for (let i = 0; i < 5; i++) burn(n); // let the JIT optimize it
  for (let attempt = 0; attempt < 6; attempt++) {
    const times = [];
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      burn(n);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    const ms = times[3];
    const next = Math.max(1000, Math.round((n * targetMs) / Math.max(ms, 0.01)));
    if (Math.abs(next - n) / n < 0.05) return { n, ms };
    n = next;
  }
  return { n, ms: targetMs };
}
