// A task cannot find the cluster token (or any other clustrix secret) on its agent: not in its
// process.env (worker thread, inline, actor), not in a child process it spawns, not in the agent's
// /proc environ or argv. Agents here come from the local launcher and by hand, as a batch job
// (CLUSTRIX_TOKEN_FILE) and a Kubernetes pod (CLUSTRIX_TOKEN) start them.
/* eslint-disable @typescript-eslint/no-require-imports -- shipped source cannot import; agents provide require */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { agentBundle, coordinatorUrl, waitUntil } from '../helpers/processes.js';

const TOKEN = `task-must-not-see-${randomBytes(12).toString('hex')}`;
// Secrets of the coordinator's own environment, which local agents must not inherit either.
const INHERITED = { CLUSTRIX_SSH_PASSPHRASE: `pass-${randomBytes(8).toString('hex')}`, CLUSTRIX_CREDENTIAL: `cred-${randomBytes(8).toString('hex')}` };
const SECRET_NAMES = ['CLUSTRIX_TOKEN', 'CLUSTRIX_TOKEN_FILE', 'CLUSTRIX_TOKEN_FD', 'CLUSTRIX_SSH_PASSPHRASE', 'CLUSTRIX_CREDENTIAL'];
const SECRET_VALUES = [TOKEN, ...Object.values(INHERITED)];

let cluster: Cluster;
let launchedPid: number;
const tmp = mkdtempSync(join(tmpdir(), 'clustrix-secrets-'));
const children: ChildProcess[] = [];

interface Sight {
  pid: number;
  env: Record<string, string | undefined>;
  child: string;
  environ: string;
  cmdline: string;
}

// Everything a task can look at without privileges (shipped by source: self-contained).
const look = (): Sight => {
  const cp = require('node:child_process') as typeof import('node:child_process');
  const fs = require('node:fs') as typeof import('node:fs');
  return {
    pid: process.pid,
    env: { ...process.env },
    child: cp.execSync('env', { encoding: 'utf8' }),
    environ: fs.readFileSync('/proc/self/environ', 'latin1'),
    cmdline: fs.readFileSync('/proc/self/cmdline', 'latin1'),
  };
};

function expectBlind(sight: Sight, where: string, options: { environ: boolean } = { environ: true }): void {
  const places: [string, string][] = [
    ['process.env', JSON.stringify(sight.env)],
    ['a child process', sight.child],
    ['argv', sight.cmdline],
  ];
  if (options.environ) places.push(['/proc environ', sight.environ]);
  for (const [what, text] of places) {
    // includes(), not toContain(): a failure names the place instead of printing a whole environment
    for (const secret of SECRET_VALUES) expect(text.includes(secret), `${where}: ${what} holds ${secret}`).toBe(false);
  }
  for (const name of SECRET_NAMES) {
    expect(Object.keys(sight.env), `${where}: process.env`).not.toContain(name);
    expect(sight.child, `${where}: a child process`).not.toMatch(new RegExp(`^${name}=`, 'm'));
  }
}

async function startByHand(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, [agentBundle], {
    env: { PATH: process.env.PATH ?? '', CLUSTRIX_URL: await coordinatorUrl(cluster), CLUSTRIX_SLOTS: '1', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  children.push(child);
  return child;
}

beforeAll(async () => {
  Object.assign(process.env, INHERITED);
  cluster = await Cluster.start({ agents: 1, slots: 1, token: TOKEN });
  launchedPid = (await cluster.agents())[0]!.pid;
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await cluster?.close();
  for (const name of Object.keys(INHERITED)) delete process.env[name];
  rmSync(tmp, { recursive: true, force: true });
});

describe('an agent the local launcher started', () => {
  it('has no secret in its /proc environ or argv', () => {
    const environ = readFileSync(`/proc/${launchedPid}/environ`, 'latin1');
    const cmdline = readFileSync(`/proc/${launchedPid}/cmdline`, 'latin1');
    for (const secret of SECRET_VALUES) {
      expect(environ.includes(secret), `environ holds ${secret}`).toBe(false);
      expect(cmdline.includes(secret), `argv holds ${secret}`).toBe(false);
    }
  });

  it('hides them from a worker-thread task and what it spawns', async () => {
    const sight = await cluster.run(look);
    expect(sight.pid).toBe(launchedPid);
    expectBlind(sight, 'worker thread');
  });

  it('hides them from an inline task and what it spawns', async () => {
    expectBlind(await cluster.remote(look, { inline: true })(), 'inline task');
  });

  it('hides them from an actor', async () => {
    class Looker {
      look(): Sight {
        const cp = require('node:child_process') as typeof import('node:child_process');
        const fs = require('node:fs') as typeof import('node:fs');
        return {
          pid: process.pid,
          env: { ...process.env },
          child: cp.execSync('env', { encoding: 'utf8' }),
          environ: fs.readFileSync('/proc/self/environ', 'latin1'),
          cmdline: fs.readFileSync('/proc/self/cmdline', 'latin1'),
        };
      }
    }
    const actor = await cluster.actor(Looker);
    try {
      expectBlind(await actor.call('look'), 'actor');
    } finally {
      await actor.kill();
    }
  });
});

describe('agents started by hand', () => {
  it('drop CLUSTRIX_TOKEN_FILE (batch jobs) and CLUSTRIX_TOKEN (Kubernetes) before any task runs', { timeout: 30_000 }, async () => {
    const tokenFile = join(tmp, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const fromFile = await startByHand({ CLUSTRIX_TOKEN_FILE: tokenFile });
    const fromEnv = await startByHand({ CLUSTRIX_TOKEN: TOKEN });
    await waitUntil(async () => (await cluster.agents()).length === 3, { timeoutMs: 20_000, what: 'both hand-started agents to connect' });
    const sights = await cluster.broadcast(look);
    expect(sights.map((s) => s.pid).sort()).toEqual([launchedPid, fromFile.pid, fromEnv.pid].sort());
    for (const sight of sights) {
      // A variable a process was started with stays in its /proc environ whatever it does later:
      // only the launcher can keep it out (Kubernetes hands the Secret over as a variable).
      expectBlind(sight, `agent pid ${sight.pid}`, { environ: sight.pid !== fromEnv.pid });
    }
  });
});
