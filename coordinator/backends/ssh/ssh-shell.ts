/**
 * RemoteShell over SSH: what batch launchers use to run `sbatch`/`qsub` and to place files on a
 * login node. Commands go through one shared SshConnection (exec channels), files through its SFTP
 * session.
 */
import type { ExecOptions, RemoteShell } from '../launchers/remote-shell.js';
import type { SshConnection, SshExecResult } from './connection.js';
import type { SshOptions } from './options.js';
import { defaultSshPool, type SshConnectionPool } from './pool.js';
import { readTail, remoteHome, resolveRemotePath, statOrUndefined, writeFileAtomic } from './sftp-files.js';
import { showOnly } from '../../util/show-only.js';

export interface SshShellOptions extends SshOptions {
  /** Where the connection comes from. @default the process-wide pool (one connection per host) */
  pool?: SshConnectionPool;
}

export class SshShell implements RemoteShell {
  static {
    showOnly(this.prototype, 'SshShell', (s) => ({ target: s.description }));
  }

  readonly description: string;
  private closed = false;

  /**
   * @param connection used for everything; the shell does not own it unless `release` says how to let go.
   * @param release called once by close(), e.g. a pool lease's release.
   */
  constructor(
    readonly connection: SshConnection,
    private readonly release: () => Promise<void> = async () => undefined,
  ) {
    this.description = connection.description;
  }

  /** A shell on the pooled connection to a host (resolved with ~/.ssh/config). */
  static async connect(options: SshShellOptions): Promise<SshShell> {
    const { pool = defaultSshPool, ...sshOptions } = options;
    const lease = await pool.acquire(sshOptions);
    return new SshShell(lease.connection, () => lease.release());
  }

  exec(command: string, options?: ExecOptions): Promise<SshExecResult> {
    return this.connection.exec(command, options);
  }

  async writeFile(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    await writeFileAtomic(this.connection, await resolveRemotePath(this.connection, path), bytes, mode);
  }

  async readTail(path: string, maxBytes: number): Promise<string> {
    return readTail(this.connection, await resolveRemotePath(this.connection, path), maxBytes);
  }

  async exists(path: string): Promise<boolean> {
    return (await statOrUndefined(this.connection, await resolveRemotePath(this.connection, path))) !== undefined;
  }

  home(): Promise<string> {
    return remoteHome(this.connection);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.release();
  }
}
