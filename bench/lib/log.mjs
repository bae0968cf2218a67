// Progress lines go to stderr, so stdout stays free for machine-readable output.
const t0 = Date.now();

export function logger(prefix) {
  return (...parts) => {
    const s = ((Date.now() - t0) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`${s}s [${prefix}] ${parts.join(' ')}\n`);
  };
}
