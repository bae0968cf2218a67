/**
 * File operations over a connection's SFTP session, shared by SshShell and the remote cache.
 * Writes are atomic: data goes to a temp name in the same directory and is renamed into place with
 * OpenSSH's posix-rename, so a reader (or a concurrent uploader) sees the old file or the whole new
 * one, never a partial file.
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { SFTPWrapper, Stats } from 'ssh2';
import type { SshConnection } from './connection.js';
import { SshError } from './errors.js';

// SFTP status codes (draft-ietf-secsh-filexfer-02), as ssh2 puts them in err.code.
const NO_SUCH_FILE = 2;
const CHUNK = 32 * 1024; // OpenSSH's sftp-server accepts up to 256 KiB; 32 KiB fits every server
const IN_FLIGHT = 8; // pipelined writes hide the round trip on a distant login node

/** The remote home directory (where sftp-server starts), cached per connection. */
const homes = new WeakMap<SshConnection, Promise<string>>();

export function remoteHome(conn: SshConnection): Promise<string> {
  let home = homes.get(conn);
  if (!home) {
    home = conn.sftp().then((sftp) => call<string>(conn, 'realpath', '.', (cb) => sftp.realpath('.', cb)));
    homes.set(conn, home);
    home.catch(() => homes.delete(conn));
  }
  return home;
}

/** Absolute path for `~`, `~/x`, relative (to home) or absolute paths; SFTP itself expands no `~`. */
export async function resolveRemotePath(conn: SshConnection, path: string): Promise<string> {
  if (path.startsWith('/')) return posix.normalize(path);
  const home = await remoteHome(conn);
  if (path === '~') return home;
  return posix.join(home, path.startsWith('~/') ? path.slice(2) : path);
}

/** File attributes, or undefined when nothing is at that path. */
export async function statOrUndefined(conn: SshConnection, path: string): Promise<Stats | undefined> {
  const sftp = await conn.sftp();
  try {
    return await call<Stats>(conn, 'stat', path, (cb) => sftp.stat(path, cb));
  } catch (err) {
    if (sftpCode(err) === NO_SUCH_FILE) return undefined;
    throw err;
  }
}

/** `mkdir -p` with the given mode for the directories it creates. */
export async function mkdirp(conn: SshConnection, dir: string, mode = 0o700): Promise<void> {
  const sftp = await conn.sftp();
  const missing: string[] = [];
  for (let d = dir; d !== '/' && d !== '.'; d = posix.dirname(d)) {
    const st = await statOrUndefined(conn, d);
    if (st) {
      if (!st.isDirectory()) throw sftpError(conn, 'mkdir', d, new Error('exists and is not a directory'));
      break;
    }
    missing.unshift(d);
  }
  for (const d of missing) {
    try {
      await call<void>(conn, 'mkdir', d, (cb) => sftp.mkdir(d, { mode }, (err) => cb(err, undefined)));
    } catch (err) {
      // Another process may have made it meanwhile.
      if (!(await statOrUndefined(conn, d))?.isDirectory()) throw err;
    }
  }
}

/** Writes `data` to `path` atomically with `mode`, creating parent directories. */
export async function writeFileAtomic(conn: SshConnection, path: string, data: Uint8Array, mode: number): Promise<void> {
  const sftp = await conn.sftp();
  const dir = posix.dirname(path);
  await mkdirp(conn, dir);
  const tmp = posix.join(dir, `.${posix.basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  // Created with the final (restrictive) mode so a secret is never readable by others, even briefly.
  const handle = await call<Buffer>(conn, 'open', tmp, (cb) => sftp.open(tmp, 'wx', { mode }, cb));
  let renamed = false;
  try {
    try {
      await writeAll(conn, sftp, handle, tmp, data);
      // The server's umask applied at open; set the mode exactly.
      await call<void>(conn, 'chmod', tmp, (cb) => sftp.fchmod(handle, mode, (err) => cb(err, undefined)));
    } finally {
      await call<void>(conn, 'close', tmp, (cb) => sftp.close(handle, (err) => cb(err, undefined)));
    }
    await renameOver(conn, sftp, tmp, path);
    renamed = true;
  } finally {
    if (!renamed) {
      try {
        sftp.unlink(tmp, () => undefined); // best effort: the connection may be gone
      } catch {
        // nothing more to do; a stale `.tmp` name harms no reader
      }
    }
  }
}

/** Up to `maxBytes` from the end of a file, as UTF-8; '' when it does not exist. */
export async function readTail(conn: SshConnection, path: string, maxBytes: number): Promise<string> {
  const sftp = await conn.sftp();
  const st = await statOrUndefined(conn, path);
  if (!st || maxBytes <= 0) return '';
  const length = Math.min(st.size, maxBytes);
  const start = st.size - length;
  const handle = await call<Buffer>(conn, 'open', path, (cb) => sftp.open(path, 'r', cb));
  const buf = Buffer.alloc(length);
  let got = 0;
  try {
    while (got < length) {
      const n = await call<number>(conn, 'read', path, (cb) => sftp.read(handle, buf, got, length - got, start + got, (err, bytesRead) => cb(err, bytesRead)));
      if (n === 0) break; // the file shrank meanwhile
      got += n;
    }
  } finally {
    await call<void>(conn, 'close', path, (cb) => sftp.close(handle, (err) => cb(err, undefined)));
  }
  let from = 0;
  // Cutting into the middle of a UTF-8 character leaves continuation bytes; drop them.
  if (start > 0) while (from < got && ((buf[from] ?? 0) & 0xc0) === 0x80) from++;
  return buf.subarray(from, got).toString('utf8');
}

async function writeAll(conn: SshConnection, sftp: SFTPWrapper, handle: Buffer, path: string, data: Uint8Array): Promise<void> {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < buf.length) {
      const offset = next;
      const len = Math.min(CHUNK, buf.length - offset);
      next += len;
      await call<void>(conn, 'write', path, (cb) => sftp.write(handle, buf, offset, len, offset, (err) => cb(err, undefined)));
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
}

async function renameOver(conn: SshConnection, sftp: SFTPWrapper, from: string, to: string): Promise<void> {
  try {
    await call<void>(conn, 'rename', to, (cb) => sftp.ext_openssh_rename(from, to, (err) => cb(err, undefined)));
  } catch (err) {
    if (!/does not support/i.test(String((err as { cause?: unknown }).cause))) throw err;
    // Plain SFTP rename refuses to replace a file: remove the target first (atomic no longer).
    await call<void>(conn, 'unlink', to, (cb) => sftp.unlink(to, (e) => cb(e, undefined))).catch(() => undefined);
    await call<void>(conn, 'rename', to, (cb) => sftp.rename(from, to, (e) => cb(e, undefined)));
  }
}

/** Runs one SFTP request; errors become SSH_SFTP (or SSH_CLOSED when the connection went away). */
function call<T>(conn: SshConnection, op: string, path: string, start: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const off = conn.onClose((err) => reject(err));
    try {
      start((err, value) => {
        off();
        if (err) reject(sftpError(conn, op, path, err));
        else resolve(value);
      });
    } catch (err) {
      off();
      reject(sftpError(conn, op, path, err));
    }
  });
}

function sftpCode(err: unknown): unknown {
  return ((err as { cause?: { code?: unknown } }).cause ?? {}).code;
}

function sftpError(conn: SshConnection, op: string, path: string, err: unknown): SshError {
  const code = (err as { code?: unknown }).code;
  const msg = err instanceof Error ? err.message : String(err);
  const hint = code === 3
    ? `${conn.target.user} may not ${op} ${path} on ${conn.target.host}: choose a writable place, or fix its permissions`
    : code === NO_SUCH_FILE
      ? `${path} does not exist on ${conn.target.host}`
      : 'check the path, the free space and quota on the remote file system';
  return new SshError('SSH_SFTP', `SFTP ${op} ${path} on ${conn.description} failed: ${msg}`, { target: conn.description, cause: err, hint });
}
