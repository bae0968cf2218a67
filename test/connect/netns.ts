/**
 * The "compute node" of the tunnel tests: network namespace clx-compute from
 * test/infra/netns-up.sh, which reaches only the "login node" address 10.201.0.1 (its own loopback
 * is its own). Agents are started in it as root with `ip netns exec`, the way a job starts `node
 * agent.cjs` on a compute node; their secret travels in the environment, never argv.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { SSH } from '../ssh/ssh-env.js';
import { agentBundle } from '../helpers/processes.js';

export const NETNS = process.env.CLUSTRIX_TEST_NETNS ?? 'clx-compute';
export const LOGIN_ADDR = process.env.CLUSTRIX_TEST_NETNS_LOGIN_ADDR ?? '10.201.0.1';

/** The namespace exists and we may enter it (root). */
export function netnsPresent(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n').some((l) => l.split(/\s+/)[0] === NETNS);
  } catch {
    return false;
  }
}

/**
 * Run when CI says the infra is up (and then fail loudly if the namespace is missing), or when a
 * developer has the test sshd and the namespace up.
 */
export const tunnelTestsEnabled = Boolean(process.env.CLUSTRIX_TEST_CLUSTER) || (existsSync(SSH.key) && netnsPresent());

/** Throws with the remedy unless the namespace is usable. */
export function requireNetns(): void {
  if (process.getuid?.() !== 0) throw new Error('the tunnel tests enter a network namespace and must run as root');
  if (!netnsPresent()) throw new Error(`network namespace ${NETNS} is missing: run \`sudo bash test/infra/up.sh sshd netns\``);
  if (!existsSync(agentBundle)) throw new Error(`${agentBundle} is missing: run \`npm run build\` first`);
}

export interface NetnsAgent {
  child: ChildProcess;
  /** Resolves when the agent process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/** Starts the real bundled agent inside the namespace. */
export function startNetnsAgent(env: { url: string; token: string; agentId: string; graceMs: number }): NetnsAgent {
  const child = spawn('ip', ['netns', 'exec', NETNS, process.execPath, agentBundle], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      CLUSTRIX_URL: env.url,
      CLUSTRIX_TOKEN: env.token,
      CLUSTRIX_AGENT_ID: env.agentId,
      CLUSTRIX_GRACE_MS: String(env.graceMs),
      CLUSTRIX_SLOTS: '1',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, stderr: () => err };
}
