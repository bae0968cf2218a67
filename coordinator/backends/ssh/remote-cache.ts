/**
 * Content-addressed files on a remote host: `<cacheDir>/<sha256>/<name>`. A file is uploaded only
 * when that path is missing, so a warm login node pays for the agent bundle once; the path's
 * hash is the content's, so the same bytes from any coordinator land on the same path. Uploads are
 * atomic (temp name + rename), so a concurrent uploader or a job starting meanwhile never sees a
 * partial file; two racing uploads write identical bytes, and whichever rename lands last wins.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SshConnection } from './connection.js';
import { SshError } from './errors.js';
import { SshShell } from './ssh-shell.js';
import { resolveRemotePath, statOrUndefined, writeFileAtomic } from './sftp-files.js';

export interface EnsureCachedOptions {
  /** Remote cache root; `~/` is the remote home. @default '~/.clustrix/cache' */
  cacheDir?: string;
  /** File name inside the hash directory (keep the extension: node loads `agent.cjs` as CommonJS by it). @default the local file's name, or 'blob' for bytes */
  name?: string;
  /** Mode of the uploaded file. @default 0o600 (only the remote user needs to read it) */
  mode?: number;
}

export interface CachedFile {
  /** Absolute remote path. */
  path: string;
  /** Hex SHA-256 of the content. */
  hash: string;
  size: number;
  /** False when the file was already there. */
  uploaded: boolean;
}

export const DEFAULT_CACHE_DIR = '~/.clustrix/cache';

/** Makes sure the content is on the remote host, uploading it over SFTP only if it is missing. */
export async function ensureCached(
  target: SshConnection | SshShell,
  source: Uint8Array | string | URL,
  options: EnsureCachedOptions = {},
): Promise<CachedFile> {
  const conn = target instanceof SshShell ? target.connection : target;
  const local = typeof source === 'string' || source instanceof URL ? (source instanceof URL ? fileURLToPath(source) : source) : undefined;
  const bytes = local === undefined ? (source as Uint8Array) : await readFile(local);
  const name = options.name ?? (local === undefined ? 'blob' : basename(local));
  if (name === '' || name.includes('/') || name === '.' || name === '..') {
    throw new SshError('SSH_CONFIG', `cache file name must be a plain file name, got "${name}"`, { target: conn.description, hint: 'pass options.name without slashes' });
  }
  const hash = createHash('sha256').update(bytes).digest('hex');
  const root = await resolveRemotePath(conn, options.cacheDir ?? DEFAULT_CACHE_DIR);
  const path = posix.join(root, hash, name);

  const existing = await statOrUndefined(conn, path);
  // The rename makes a partial file impossible; a size check still catches a file someone truncated.
  if (existing && existing.isFile() && existing.size === bytes.byteLength) {
    return { path, hash, size: bytes.byteLength, uploaded: false };
  }
  await writeFileAtomic(conn, path, bytes, options.mode ?? 0o600);
  return { path, hash, size: bytes.byteLength, uploaded: true };
}
