// The services directory holds client credentials (state files) and the services' logs: private
// (0700 / 0600) even when it, or a log from an earlier run, already exists with a wider mode.
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { servicesDir, writeState } from '../../coordinator/service/state-file.js';
import { isAlive } from '../helpers/processes.js';
import { cli, isolatedEnv } from './cli-helpers.js';

const mode = (path: string): string => (statSync(path).mode & 0o777).toString(8);

/** A services dir at 0755 holding a 0644 log, as an older clustrix or a umask of 022 leaves them. */
function openDirectory(env: NodeJS.ProcessEnv, profile: string): { dir: string; log: string } {
  const dir = servicesDir(env);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const log = join(dir, `${profile}.log`);
  writeFileSync(log, 'an earlier run\n');
  chmodSync(log, 0o644);
  return { dir, log };
}

let servicePid = 0;
afterAll(() => {
  if (servicePid && isAlive(servicePid)) process.kill(servicePid, 'SIGKILL');
});

describe('clustrix up', () => {
  it('makes an existing 0755 services dir 0700 and its reused 0644 log file 0600; prints no credential', { timeout: 120_000 }, async () => {
    const env = isolatedEnv();
    const { dir, log } = openDirectory(env, 'local');
    const r = await cli(['up', 'local', '-n', '1', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    servicePid = (JSON.parse(r.stdout) as { pid: number }).pid;
    expect(mode(dir)).toBe('700');
    expect(mode(log)).toBe('600');
    expect(mode(join(dir, 'local.json'))).toBe('600');
    // the credential is in the 0600 state file only: not on stdout (--json), not in the log
    const { credential } = JSON.parse(readFileSync(join(dir, 'local.json'), 'utf8')) as { credential: string };
    expect(credential.length).toBeGreaterThan(20);
    expect(r.stdout).not.toContain(credential);
    expect(readFileSync(log, 'utf8')).not.toContain(credential);
    const down = await cli(['down', 'local'], env);
    expect(down.code, down.stderr).toBe(0);
  });
});

describe('writeState (also what `up --foreground` writes)', () => {
  it('makes an existing 0755 services dir 0700', () => {
    const env = isolatedEnv();
    const { dir } = openDirectory(env, 'fg');
    writeState({ profile: 'fg', address: 'ws://127.0.0.1:1', credential: 'c', pid: 1, serviceId: 's', backend: 'local', agents: 0, startedAt: 0, logFile: null }, env);
    expect(mode(dir)).toBe('700');
    expect(mode(join(dir, 'fg.json'))).toBe('600');
  });
});
