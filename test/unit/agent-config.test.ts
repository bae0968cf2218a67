// readAgentConfig(env): where the agent connects and how it authenticates, from its environment.
import { chmodSync, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentConfigError, dropSecretEnv, readAgentConfig } from '../../agent/config.js';

const dir = mkdtempSync(join(os.tmpdir(), 'clustrix-agent-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tokenFile(name: string, content: string, mode: number): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  chmodSync(file, mode); // explicit: the umask must not decide the test
  return file;
}

const base = { CLUSTRIX_URL: 'ws://127.0.0.1:4567', CLUSTRIX_TOKEN: 'secret-token-0123456789' };

function refusal(env: NodeJS.ProcessEnv): AgentConfigError {
  try {
    readAgentConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(AgentConfigError);
    return err as AgentConfigError;
  }
  throw new Error('expected readAgentConfig to refuse the environment');
}

describe('CLUSTRIX_URL', () => {
  it('missing is refused', () => {
    const { CLUSTRIX_URL: _url, ...env } = base;
    expect(refusal(env).message).toBe('CLUSTRIX_URL must be a ws:// or wss:// address, got nothing');
  });

  it('empty is refused', () => {
    expect(refusal({ ...base, CLUSTRIX_URL: '' }).message).toBe('CLUSTRIX_URL must be a ws:// or wss:// address, got nothing');
  });

  it('of another scheme is refused, quoting it', () => {
    expect(refusal({ ...base, CLUSTRIX_URL: 'http://host:80' }).message).toBe('CLUSTRIX_URL must be a ws:// or wss:// address, got "http://host:80"');
  });

  it.each(['ws://127.0.0.1:4567', 'wss://login.example.org:443/agents'])('%s is accepted', (url) => {
    expect(readAgentConfig({ ...base, CLUSTRIX_URL: url }).url).toBe(url);
  });
});

describe('the token', () => {
  it('comes from CLUSTRIX_TOKEN', () => {
    expect(readAgentConfig(base).token).toBe('secret-token-0123456789');
  });

  it('missing altogether is refused', () => {
    expect(refusal({ CLUSTRIX_URL: base.CLUSTRIX_URL }).message).toMatch(/CLUSTRIX_TOKEN, CLUSTRIX_TOKEN_FD or CLUSTRIX_TOKEN_FILE/);
  });

  it('from a 0600 file is read and trimmed', () => {
    const file = tokenFile('ok', 'file-token-abcdef0123\n', 0o600);
    expect(readAgentConfig({ CLUSTRIX_URL: base.CLUSTRIX_URL, CLUSTRIX_TOKEN_FILE: file }).token).toBe('file-token-abcdef0123');
  });

  it.each([0o644, 0o640, 0o604, 0o660])('from a file with mode %o is refused, with the fix', (mode) => {
    const file = tokenFile(`open-${mode.toString(8)}`, 'file-token-abcdef0123\n', mode);
    const err = refusal({ CLUSTRIX_URL: base.CLUSTRIX_URL, CLUSTRIX_TOKEN_FILE: file });
    expect(err.message).toContain(file);
    expect(err.message).toContain(`mode ${mode.toString(8)}`);
    expect(err.message).toContain('chmod 600');
  });

  it('from a missing file is refused, naming the file', () => {
    const file = join(dir, 'does-not-exist');
    expect(refusal({ CLUSTRIX_URL: base.CLUSTRIX_URL, CLUSTRIX_TOKEN_FILE: file }).message).toContain(file);
  });

  it('from an empty file is refused', () => {
    const file = tokenFile('empty', '\n', 0o600);
    expect(refusal({ CLUSTRIX_URL: base.CLUSTRIX_URL, CLUSTRIX_TOKEN_FILE: file }).message).toMatch(/is empty/);
  });

  it('from CLUSTRIX_TOKEN_FD is read to the end, trimmed, and the descriptor closed', () => {
    const fd = openSync(tokenFile('fd', 'fd-token-abcdef0123\n', 0o600), 'r');
    expect(readAgentConfig({ CLUSTRIX_URL: base.CLUSTRIX_URL, CLUSTRIX_TOKEN_FD: String(fd) }).token).toBe('fd-token-abcdef0123');
    expect(() => fstatSync(fd)).toThrow(/EBADF/);
  });

  it.each(['0', '2', 'x', '3.5'])('from CLUSTRIX_TOKEN_FD %j (not a descriptor above stdio) is refused', (raw) => {
    expect(refusal({ CLUSTRIX_URL: base.CLUSTRIX_URL, CLUSTRIX_TOKEN_FD: raw }).message).toBe(
      `CLUSTRIX_TOKEN_FD must be a file descriptor number above 2, got ${JSON.stringify(raw)}`,
    );
  });

  it('from an empty CLUSTRIX_TOKEN_FD is refused', () => {
    const fd = openSync(tokenFile('fd-empty', '', 0o600), 'r');
    expect(refusal({ CLUSTRIX_URL: base.CLUSTRIX_URL, CLUSTRIX_TOKEN_FD: String(fd) }).message).toBe(`CLUSTRIX_TOKEN_FD ${fd} gave an empty token`);
  });
});

describe('dropSecretEnv', () => {
  it('deletes every secret variable and keeps the rest', () => {
    const env: NodeJS.ProcessEnv = {
      ...base, CLUSTRIX_TOKEN_FILE: '/t', CLUSTRIX_TOKEN_FD: '3', CLUSTRIX_SSH_PASSPHRASE: 'p', CLUSTRIX_CREDENTIAL: 'c', CLUSTRIX_SLOTS: '2', HOME: '/h',
    };
    dropSecretEnv(env);
    expect(env).toEqual({ CLUSTRIX_URL: base.CLUSTRIX_URL, CLUSTRIX_SLOTS: '2', HOME: '/h' });
  });
});

describe('CLUSTRIX_AGENT_ID', () => {
  it('replaces {NAME} with the environment variable NAME', () => {
    const config = readAgentConfig({ ...base, CLUSTRIX_AGENT_ID: 'job7-{SLURM_PROCID}-of-{SLURM_NTASKS}', SLURM_PROCID: '3', SLURM_NTASKS: '16' });
    expect(config.agentId).toBe('job7-3-of-16');
  });

  it('without placeholders is kept as it is', () => {
    expect(readAgentConfig({ ...base, CLUSTRIX_AGENT_ID: 'c1-a-0' }).agentId).toBe('c1-a-0');
  });

  it('unset means an ad hoc agent (null)', () => {
    expect(readAgentConfig(base).agentId).toBeNull();
  });
});

describe('other settings', () => {
  it('have their documented defaults', () => {
    const config = readAgentConfig(base);
    expect(config).toMatchObject({
      slots: os.availableParallelism(),
      inlineConcurrency: 64,
      graceMs: 60_000,
      walltimeEnd: null,
      certFingerprint: null,
      exitWithStdin: false,
      maxFrameBytes: 256 * 1024 * 1024,
      jobId: null,
    });
  });

  it('take the batch job id from the scheduler variables', () => {
    expect(readAgentConfig({ ...base, SLURM_JOB_ID: '991' }).jobId).toBe('991');
    expect(readAgentConfig({ ...base, PBS_JOBID: '12.pbs' }).jobId).toBe('12.pbs');
    expect(readAgentConfig({ ...base, CLUSTRIX_JOB_ID: 'mine', SLURM_JOB_ID: '991' }).jobId).toBe('mine');
  });

  it('read numbers from the environment', () => {
    const config = readAgentConfig({ ...base, CLUSTRIX_SLOTS: '3', CLUSTRIX_GRACE_MS: '1500', CLUSTRIX_EXIT_WITH_STDIN: '1' });
    expect(config).toMatchObject({ slots: 3, graceMs: 1_500, exitWithStdin: true });
  });

  it.each(['two', '-1', '1.5'])('refuse CLUSTRIX_SLOTS=%s', (value) => {
    expect(refusal({ ...base, CLUSTRIX_SLOTS: value }).message).toBe(`CLUSTRIX_SLOTS must be a non-negative integer, got ${JSON.stringify(value)}`);
  });
});
