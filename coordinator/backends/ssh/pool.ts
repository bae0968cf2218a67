/**
 * Shares one connection per destination between everything that needs it (launcher exec, the
 * code cache's SFTP, the tunnel, other targets' ProxyJump hops), counting leases so the connection
 * closes when the last user lets go. Keyed by `user@host:port` plus the jump chain: options that
 * differ only in credentials reuse the connection the first caller authenticated.
 */
import { SshConnection, type HopSource } from './connection.js';
import { describeTarget, resolveSshTarget, type SshOptions } from './options.js';

export interface SshLease {
  readonly connection: SshConnection;
  /** Gives the lease back; the connection closes when no lease is left. Idempotent. */
  release(): Promise<void>;
}

interface Entry {
  connection: Promise<SshConnection>;
  refs: number;
}

export class SshConnectionPool implements HopSource {
  private readonly entries = new Map<string, Entry>();

  /** A lease on the shared connection for these options, connecting if there is none (or it closed). */
  async acquire(options: SshOptions): Promise<SshLease> {
    const key = poolKey(options);
    let entry = this.entries.get(key);
    if (!entry) {
      const created: Entry = { connection: SshConnection.connect({ ...options, hops: this }), refs: 0 };
      entry = created;
      this.entries.set(key, created);
      created.connection.then(
        (c) => c.onClose(() => this.forget(key, created)),
        () => this.forget(key, created), // a failed connect is not cached: the next caller tries again
      );
    }
    entry.refs++;
    let connection: SshConnection;
    try {
      connection = await entry.connection;
    } catch (err) {
      entry.refs--;
      throw err;
    }
    const held = entry;
    let released = false;
    return {
      connection,
      release: async () => {
        if (released) return;
        released = true;
        held.refs--;
        if (held.refs === 0) {
          this.forget(key, held);
          await connection.close();
        }
      },
    };
  }

  /** Destinations with a live or pending connection, for diagnostics. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** Closes every connection regardless of leases (process shutdown). */
  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.connection.then((c) => c.close(), () => undefined)));
  }

  private forget(key: string, entry: Entry): void {
    if (this.entries.get(key) === entry) this.entries.delete(key);
  }
}

function poolKey(options: SshOptions): string {
  const target = resolveSshTarget(options);
  const via = target.proxyJump.map((j) => `${j.user ?? ''}@${j.host}:${j.port ?? ''}`).join(',');
  return via ? `${describeTarget(target)} via ${via}` : describeTarget(target);
}

/** The process-wide pool SshShell.connect uses unless given another. */
export const defaultSshPool = new SshConnectionPool();
