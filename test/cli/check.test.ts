// `clustrix check` against the test sshd + SLURM (all ✓) and against a wrong port (✗ with its fix).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loginSsh as ssh, skipCluster } from '../cluster/cluster-env.js';
import { cli, isolatedEnv } from '../service/cli-helpers.js';

// The login node by its cluster address: the SLURM nodes reach only that (test/infra), so the
// round trip's agent can dial the address `connect: 'direct'` advertises.
function configWith(port: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'clustrix-check-'));
  const file = join(dir, 'clustrix.config.yaml');
  writeFileSync(
    file,
    `profiles:\n  hpc:\n    backend: slurm\n    ssh: { host: '${ssh.host}', port: ${port}, user: ${ssh.user}, identityFile: '${ssh.identityFile}', knownHostsFile: '${ssh.knownHostsFile}', configFile: false }\n    resources: { cpusPerTask: 1, time: '00:05:00' }\n`,
  );
  return file;
}

describe.skipIf(skipCluster)('clustrix check', () => {
  const env = isolatedEnv();

  it('prints every step with ✓ against the test sshd and SLURM', async () => {
    const r = await cli(['check', 'hpc', '--config', configWith(ssh.port)], env, 180_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    for (const step of ['profile', 'ssh', 'host key', 'scheduler', 'node', 'round trip']) expect(r.stdout).toContain(`✓ ${step}:`);
    expect(r.stdout).not.toContain('✗');
  });

  it('prints the ✗ with its fix against a wrong port, and exits 1', async () => {
    const r = await cli(['check', 'hpc', '--config', configWith(1)], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/✗ ssh: .*refused/);
    expect(r.stdout).toMatch(/\n {4}fix: check the port/);
  });
});

describe('clustrix check of a profile with several pools', () => {
  const env = isolatedEnv();

  it('checks a round trip on every pool', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'clustrix-check-'));
    const file = join(dir, 'clustrix.config.yaml');
    writeFileSync(file, 'profiles:\n  mixed:\n    pools:\n      cpu: { agents: 2, slots: 1 }\n      lic: { agents: 0, adapt: { min: 0, max: 2 }, agentResources: { licenses: 1 } }\n');
    const r = await cli(['check', 'mixed', '--config', file], env, 120_000);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/✓ round trip: pool cpu: one agent started/);
    expect(r.stdout).toMatch(/✓ round trip: pool lic: one agent started/);
  });
});
