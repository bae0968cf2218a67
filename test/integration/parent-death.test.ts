// When the program that started a cluster dies by SIGKILL (no chance to clean up), its local
// agents notice and exit by themselves.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isAlive, waitUntil } from '../helpers/processes.js';

const parentScript = fileURLToPath(new URL('../fixtures/core/parent.mjs', import.meta.url));

describe('after the parent process is killed with SIGKILL', () => {
  it.each([
    ['idle', []],
    ['running a task', ['busy']],
  ])('its agents exit within a few seconds (agents %s)', { timeout: 60_000 }, async (_label, args) => {
    const parent = spawn(process.execPath, [parentScript, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    parent.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const exited = new Promise<void>((resolve) => parent.once('exit', () => resolve()));
    let pids: number[] = [];
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        parent.stdout.setEncoding('utf8').on('data', (t: string) => {
          out += t;
          const nl = out.indexOf('\n');
          if (nl >= 0) resolve(out.slice(0, nl));
        });
        parent.once('exit', (code) => reject(new Error(`parent exited (${code}) before printing pids; stderr:\n${stderr}`)));
        // Well inside the test's timeout, so `finally` below runs and kills what the parent started:
        // a test that timed out would leave it and its busy agents burning the CPU for the rest of the run.
        setTimeout(() => reject(new Error(`the parent printed no pids within 40 s; stderr:\n${stderr}`)), 40_000).unref();
      });
      pids = JSON.parse(line) as number[];
      expect(pids).toHaveLength(2);
      for (const pid of pids) expect(isAlive(pid)).toBe(true);

      parent.kill('SIGKILL');
      await exited;
      await waitUntil(async () => pids.every((pid) => !isAlive(pid)), { timeoutMs: 5_000, what: `agents ${pids.join(', ')} to exit` });
    } finally {
      parent.kill('SIGKILL');
      for (const pid of pids) {
        try {
          if (isAlive(pid)) process.kill(pid, 'SIGKILL'); // never leak agents, even when the test fails
        } catch {
          // already gone
        }
      }
    }
  });
});
