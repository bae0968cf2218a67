// Child processes the rows start (reference servers, pools, Python): tracked so that a row that
// ends, fails or is stopped by the runner leaves nothing behind. Only our own children, by pid.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

const children = new Set();

export function spawnTracked(cmd, args, options = {}) {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });
  children.add(child);
  child.once('exit', () => children.delete(child));
  child.once('error', () => children.delete(child));
  child.stdin?.on('error', () => undefined);
  return child;
}

export function killChildren(signal = 'SIGTERM') {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  }
}

let cleanupInstalled = false;
/** On SIGTERM/SIGINT (the runner's row timeout) stop our children first, then exit. */
export function installCleanup() {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  for (const sig of ['SIGTERM', 'SIGINT']) {
    process.on(sig, () => {
      killChildren('SIGTERM');
      setTimeout(() => {
        killChildren('SIGKILL');
        process.exit(130);
      }, 1500).unref();
      setTimeout(() => process.exit(130), 50);
    });
  }
  process.on('exit', () => killChildren('SIGKILL'));
}

const MARK = 'BENCH_JSON ';

/**
 * Runs a program that prints one `BENCH_JSON {...}` line on stdout; resolves with that object.
 * Its stderr is forwarded, prefixed. Rejects on a non-zero exit, a missing line or the timeout.
 */
export function runJson(cmd, args, { timeoutMs = 300_000, prefix = cmd, env, cwd } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(cmd, args, { env: env ?? process.env, cwd });
    let out = '';
    let errTail = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => {
      errTail = (errTail + d).slice(-4000);
      for (const line of d.split('\n')) if (line.trim()) process.stderr.write(`    (${prefix}) ${line}\n`);
    });
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      reject(new Error(`${prefix}: no result after ${timeoutMs} ms`));
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith(MARK));
      if (code !== 0 || !line) {
        reject(new Error(`${prefix} exited with ${signal ?? code}${line ? '' : ' without a result'}: ${errTail.trim().split('\n').slice(-5).join(' | ')}`));
        return;
      }
      resolve(JSON.parse(line.slice(MARK.length)));
    });
    // stdin stays open: a child that watches it (dask_bench.py) stops when this process is gone.
  });
}

/** For scripts run by runJson: print the result line. */
export function emitJson(value) {
  process.stdout.write(`${MARK}${JSON.stringify(value)}\n`);
}

/** VmRSS / VmHWM (peak) of a process from /proc, in bytes; null when it is gone. */
export function procMemory(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (name) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : null;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Wall time of one process run to its exit, ms (spawn() call to the 'exit' event). */
export function timeProcess(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { stdio: 'ignore', ...options });
    child.once('error', reject);
    child.once('exit', (code) => resolve({ ms: performance.now() - t0, code }));
  });
}
