/**
 * Packages only some backends use, declared as optional peer dependencies: `npm install clustrix`
 * leaves them out (the Kubernetes client and ssh2 are most of an install's size), and a backend
 * that needs one loads it through here, so a missing one fails `Cluster.start()` with a
 * ConfigError that names the command adding it, instead of ERR_MODULE_NOT_FOUND from deep inside.
 */
import { ConfigError } from '../errors/errors.js';

export type PeerPackage = 'ssh2' | '@kubernetes/client-node';

type SshModule = typeof import('./ssh/index.js');

/** Resolves once `name` can be imported; `user` says what needs it (`backend 'ssh'`). */
export async function requirePeer(name: PeerPackage, user: string): Promise<void> {
  try {
    await import(name);
  } catch (err) {
    if (!isMissing(err, name)) throw err;
    throw new ConfigError(`${user} needs the package ${name}, which is not installed`, {
      cause: err,
      hint: `npm install ${name}   (an optional peer dependency of clustrix, needed only for this backend)`,
    });
  }
}

/** clustrix's SSH layer (coordinator/ssh), once ssh2 is known to be there. */
export async function loadSsh(user: string): Promise<SshModule> {
  await requirePeer('ssh2', user);
  return import('./ssh/index.js');
}

/** This package missing, not one of its own dependencies (that error is left as it is). */
function isMissing(err: unknown, name: string): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && typeof e.message === 'string' && e.message.includes(`'${name}'`);
}
