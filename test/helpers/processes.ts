/**
 * Process helpers for integration tests: liveness that counts zombies as dead (an exited child
 * nobody reaped yet is gone for every purpose that matters here), polling with a deadline, and
 * reading an agent's environment to find the coordinator it dials.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** True while `pid` exists and is not a zombie (state Z) or dead (state X). */
export function isAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // Format: `pid (comm) state ...`; comm may hold spaces and parentheses, so split at the last ')'.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== 'Z' && state !== 'X' && state !== '';
}

export interface WaitOptions {
  /** Give up after this long, ms. @default 5000 */
  timeoutMs?: number;
  /** Poll this often, ms. @default 25 */
  intervalMs?: number;
  /** Says what was awaited, in the timeout error. */
  what?: string;
}

/** Resolves once `condition` returns true; rejects with `what` in the message after the deadline. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, options: WaitOptions = {}): Promise<void> {
  const { timeoutMs = 5_000, intervalMs = 25, what = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The environment a running process was started with (Linux /proc). */
export function readEnviron(pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return env;
}

/**
 * The coordinator address of a cluster, as its agents were told it (CLUSTRIX_URL): the public API
 * does not expose it, and handshake tests need to dial it themselves.
 */
export async function coordinatorUrl(cluster: { agents(): Promise<{ pid: number }[]> }): Promise<string> {
  const agent = (await cluster.agents())[0];
  if (!agent) throw new Error('the cluster has no agents to read CLUSTRIX_URL from');
  const url = readEnviron(agent.pid).CLUSTRIX_URL;
  if (!url) throw new Error(`agent ${agent.pid} has no CLUSTRIX_URL in its environment`);
  return url;
}

/** The bundled agent a user would start by hand, resolved through the package's exports map. */
export const agentBundle: string = createRequire(import.meta.url).resolve('clustrix/agent.cjs');
