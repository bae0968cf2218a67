// Runs one row in its own process (so rows do not share heaps, JIT state or leftover agents) and
// sends its result to bench/run.mjs over IPC.
import { rowContext } from './config.mjs';
import { logger } from './log.mjs';
import { installCleanup } from './proc.mjs';

installCleanup();
const id = process.argv[2];
const log = logger(id);
const ctx = rowContext();
let result;
try {
  const mod = await import(`../rows/${id}.mjs`);
  const skip = mod.skip ? await mod.skip(ctx, log) : null;
  if (skip) {
    log(`skipped: ${skip}`);
    result = { status: 'skipped', reason: skip };
  } else {
    const r = await mod.run(ctx, log);
    const failures = r.failures ?? [];
    result = { status: failures.length ? 'failed' : 'ok', ...r, failures, error: failures.length ? failures.join('; ') : undefined };
  }
} catch (err) {
  log(`FAILED: ${err?.stack ?? err}`);
  result = { status: 'failed', error: String(err?.stack ?? err) };
}
process.send(result, () => process.exit(0));
