/**
 * Reverse tunnel for connect-back: the login node's sshd listens (`forwardIn`) and each connection
 * it accepts is piped to the coordinator's WebSocket server on this machine. With sshd's usual
 * `GatewayPorts no` the listener is on the login node's loopback only; a relay on the login node
 * (built separately) exposes it to compute nodes, and needs just `remotePort` to find it.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { ClientChannel } from 'ssh2';
import type { SshConnection } from './connection.js';

export interface ReverseTunnelOptions {
  /** Address the server listens on. @default '127.0.0.1' */
  remoteHost?: string;
  /** Port the server listens on; 0 lets it pick a free one. @default 0 */
  remotePort?: number;
  /** Where forwarded connections go on this machine. @default '127.0.0.1' */
  localHost?: string;
  localPort: number;
  /** Told about each forwarded connection that could not reach the local server. @default ignored */
  onError?: (err: Error) => void;
}

export interface ReverseTunnel {
  readonly remoteHost: string;
  /** The port actually bound on the remote host (the one to hand to a relay or an agent). */
  readonly remotePort: number;
  /** Forwarded connections currently open. */
  readonly activeConnections: number;
  /** Stops listening and drops open forwarded connections; idempotent. */
  close(): Promise<void>;
}

export async function openReverseTunnel(connection: SshConnection, options: ReverseTunnelOptions): Promise<ReverseTunnel> {
  const remoteHost = options.remoteHost ?? '127.0.0.1';
  const localHost = options.localHost ?? '127.0.0.1';
  const open = new Set<{ channel: ClientChannel; socket: Socket }>();
  let closed = false;

  const forward = await connection.forwardIn(remoteHost, options.remotePort ?? 0, (_info, accept, reject) => {
    if (closed) return reject();
    const channel = accept();
    const socket = netConnect({ host: localHost, port: options.localPort });
    socket.setNoDelay(true);
    const pair = { channel, socket };
    open.add(pair);
    let done = false;
    const teardown = (err?: Error): void => {
      if (done) return;
      done = true;
      open.delete(pair);
      if (err) options.onError?.(err);
      socket.destroy();
      channel.destroy();
    };
    socket.on('error', (err) => teardown(err));
    channel.on('error', (err: Error) => teardown(err));
    socket.on('close', () => teardown());
    channel.on('close', () => teardown());
    // pipe() carries half-closes both ways (end → EOF), which WebSocket close handshakes rely on.
    channel.pipe(socket).pipe(channel);
  });

  return {
    remoteHost,
    remotePort: forward.port,
    get activeConnections() {
      return open.size;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      for (const { channel, socket } of [...open]) {
        socket.destroy();
        channel.destroy();
      }
      open.clear();
      await forward.close();
    },
  };
}
