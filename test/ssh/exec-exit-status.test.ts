import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { SshConnection } from '../../coordinator/backends/ssh/index.js';
import { sshAvailable, sshOptions } from './ssh-env.js';

/**
 * A launcher reads `sbatch`/`qsub`'s verdict from the exit status, so it must never be lost. On a
 * busy coordinator sshd's exec reply, the command's output, its exit-status and the channel close
 * arrive in one TCP read; a wrapper that listens for the status only after its own `await` misses
 * it. Two busy processes on this 2-core machine make that happen within a few hundred commands.
 */
const CASES = [
  { command: 'exit 0', code: 0, signal: null, stdout: '' },
  { command: 'exit 3', code: 3, signal: null, stdout: '' },
  { command: 'true', code: 0, signal: null, stdout: '' },
  { command: 'false', code: 1, signal: null, stdout: '' },
  { command: 'echo out; exit 5', code: 5, signal: null, stdout: 'out\n' },
  { command: 'kill -TERM $$', code: null, signal: 'SIGTERM', stdout: '' },
] as const;

/** Runs `total` commands (cycling through CASES) with `concurrency` in flight; returns each mismatch. */
async function runMany(conn: SshConnection, total: number, concurrency: number): Promise<string[]> {
  const wrong: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const c = CASES[next++ % CASES.length];
      if (!c) return;
      const r = await conn.exec(c.command);
      if (r.code !== c.code || r.signal !== c.signal || r.stdout !== c.stdout) {
        wrong.push(`${c.command} (${concurrency} at once): code ${String(r.code)} signal ${String(r.signal)} stdout ${JSON.stringify(r.stdout)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return wrong;
}

describe.skipIf(!sshAvailable)('exec exit status under load', () => {
  let conn: SshConnection;
  const busy: ChildProcess[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const child = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
      busy.push(child);
      await once(child, 'spawn');
    }
    conn = await SshConnection.connect(sshOptions());
  });
  afterAll(async () => {
    for (const child of busy) child.kill('SIGKILL');
    await conn?.close();
  });

  test('every command yields its own exit status (or signal), one at a time and many at once', async () => {
    const wrong = [
      ...(await runMany(conn, 60, 1)),
      ...(await runMany(conn, 120, 4)),
      ...(await runMany(conn, 120, 16)),
    ];
    expect(wrong, `${wrong.length} of 300 commands came back with the wrong status`).toEqual([]);
  });
});
