/**
 * Environment variables that carry a clustrix secret (or say where one is). Both sides use this
 * one list: an agent deletes them once it has read its token, before any task code or worker
 * thread exists, and the coordinator keeps its own copies of them out of what it starts (local
 * agents, scheduler commands), since a child inherits the environment by default.
 */
export const SECRET_ENV = [
  /** The cluster token, given directly (the Kubernetes launcher's Secret → env var). */
  'CLUSTRIX_TOKEN',
  /** A 0600 file holding it (batch launchers): the path, not the token, but a task has no use for it. */
  'CLUSTRIX_TOKEN_FILE',
  /** A pipe the token arrives on (the local launcher). */
  'CLUSTRIX_TOKEN_FD',
  /** Unlocks encrypted SSH keys on the coordinator. */
  'CLUSTRIX_SSH_PASSPHRASE',
  /** A client's credential for a clustrix service. */
  'CLUSTRIX_CREDENTIAL',
] as const;

/** A copy of `env` without the secret variables. */
export function withoutSecrets(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const copy = { ...env };
  for (const name of SECRET_ENV) delete copy[name];
  return copy;
}
