import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * The real services of test/infra (sshd on 127.0.0.1:2222 as testuser, SLURM, SGE, the PBS
 * wrappers). CI sets CLUSTRIX_TEST_CLUSTER=1 after starting them: then these tests must run.
 */
export const ssh = {
  host: process.env.CLUSTRIX_TEST_SSH_HOST ?? '127.0.0.1',
  port: Number(process.env.CLUSTRIX_TEST_SSH_PORT ?? 2222),
  user: process.env.CLUSTRIX_TEST_SSH_USER ?? 'testuser',
  identityFile: process.env.CLUSTRIX_TEST_SSH_KEY ?? '/tmp/clustrix-infra/sshd/id_ed25519',
  knownHostsFile: process.env.CLUSTRIX_TEST_SSH_KNOWN_HOSTS ?? '/tmp/clustrix-infra/sshd/known_hosts',
  configFile: false as const,
};

/**
 * The login node as the SLURM compute nodes reach it (test/infra: cx-node1..4 in network
 * namespaces, where 127.0.0.1 is each node's own loopback). sshd listens here too, so a cluster
 * that reaches the login node by this address advertises it to its agents (`connect: 'direct'`).
 * SLURM and PBS (which runs on SLURM) jobs need it; SGE runs on this host itself.
 */
export const loginAddress = process.env.CLUSTRIX_TEST_LOGIN_ADDR ?? '10.202.0.1';
export const loginSsh = { ...ssh, host: loginAddress };

export const pbsBinDir = process.env.CLUSTRIX_TEST_PBS_PATH ?? '/opt/slurm-torque/usr/bin';

/** Skip only on a developer machine without the infrastructure; in CI a missing service fails. */
export const skipCluster = !process.env.CLUSTRIX_TEST_CLUSTER && !existsSync(ssh.identityFile);

/** Runs a command as testuser over the test sshd (as a user of the cluster would). */
export function asTestUser(command: string): string {
  return execFileSync(
    'ssh',
    ['-p', String(ssh.port), '-i', ssh.identityFile, '-o', `UserKnownHostsFile=${ssh.knownHostsFile}`, '-o', 'BatchMode=yes', `${ssh.user}@${ssh.host}`, command],
    { encoding: 'utf8', timeout: 60_000 },
  );
}
