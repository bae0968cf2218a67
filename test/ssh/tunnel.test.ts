import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openReverseTunnel, SshConnection } from '../../coordinator/backends/ssh/index.js';
import { sshAvailable, sshOptions } from './ssh-env.js';

/** A local server standing in for the coordinator's WebSocket server: answers each line with `echo:<line>`. */
function echoServer(): Promise<{ server: Server; port: number; received: string[] }> {
  const received: string[] = [];
  const server = createServer((s) => {
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      received.push(d);
      s.write(`echo:${d}`);
    });
    s.on('end', () => s.end());
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, received })));
}

function roundTrip(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s: Socket = connect(port, '127.0.0.1', () => s.write(text));
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      got += d;
      if (got.length >= text.length + 5) s.end();
    });
    s.on('close', () => resolve(got));
    s.on('error', reject);
  });
}

describe.skipIf(!sshAvailable)('reverse tunnel (forwardIn) for connect-back', () => {
  let conn: SshConnection;
  let local: Awaited<ReturnType<typeof echoServer>>;
  beforeAll(async () => {
    conn = await SshConnection.connect(sshOptions());
    local = await echoServer();
  });
  afterAll(async () => {
    await conn?.close();
    await new Promise((r) => local?.server.close(r));
  });

  test('a TCP connection to the bound remote port reaches the local server, both ways', async () => {
    const tunnel = await openReverseTunnel(conn, { localPort: local.port });
    try {
      expect(tunnel.remoteHost).toBe('127.0.0.1');
      expect(tunnel.remotePort).toBeGreaterThan(0);
      // The "remote side" is this machine's loopback, where sshd listens for the forward.
      expect(await roundTrip(tunnel.remotePort, 'hello')).toBe('echo:hello');
      expect(local.received).toContain('hello');
    } finally {
      await tunnel.close();
    }
  });

  test('from a process on the remote host (over exec), several connections at once', async () => {
    const tunnel = await openReverseTunnel(conn, { localPort: local.port });
    try {
      const cmd = (n: number) => `exec 3<>/dev/tcp/127.0.0.1/${tunnel.remotePort}; printf 'from-remote-${n}' >&3; timeout 5 head -c ${'echo:from-remote-'.length + 1} <&3`;
      const results = await Promise.all([1, 2, 3].map((n) => conn.exec(`bash -c '${cmd(n).replace(/'/g, `'\\''`)}'`)));
      expect(results.map((r) => r.stdout)).toEqual(['echo:from-remote-1', 'echo:from-remote-2', 'echo:from-remote-3']);
    } finally {
      await tunnel.close();
    }
  });

  test('two tunnels on one connection each reach their own local server', async () => {
    const other = await echoServer();
    const t1 = await openReverseTunnel(conn, { localPort: local.port });
    const t2 = await openReverseTunnel(conn, { localPort: other.port });
    try {
      expect(t1.remotePort).not.toBe(t2.remotePort);
      await roundTrip(t2.remotePort, 'to-two');
      expect(other.received).toEqual(['to-two']);
    } finally {
      await t1.close();
      await t2.close();
      await new Promise((r) => other.server.close(r));
    }
  });

  test('a fixed remote port is honoured', async () => {
    const probe = createServer();
    const port = await new Promise<number>((r) => probe.listen(0, '127.0.0.1', () => r((probe.address() as { port: number }).port)));
    await new Promise((r) => probe.close(r));
    const tunnel = await openReverseTunnel(conn, { remotePort: port, localPort: local.port });
    try {
      expect(tunnel.remotePort).toBe(port);
      expect(await roundTrip(port, 'fixed')).toBe('echo:fixed');
    } finally {
      await tunnel.close();
    }
  });

  test('close() stops the remote listener', async () => {
    const tunnel = await openReverseTunnel(conn, { localPort: local.port });
    const port = tunnel.remotePort;
    await tunnel.close();
    await tunnel.close(); // idempotent
    const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.on('connect', () => {
        s.destroy();
        resolve(undefined);
      });
      s.on('error', resolve);
    });
    expect(err?.code).toBe('ECONNREFUSED');
  });

  test('when the local server is down, the forwarded connection is closed and onError hears why', async () => {
    const gone = createServer();
    const port = await new Promise<number>((r) => gone.listen(0, '127.0.0.1', () => r((gone.address() as { port: number }).port)));
    await new Promise((r) => gone.close(r));
    const errors: Error[] = [];
    const tunnel = await openReverseTunnel(conn, { localPort: port, onError: (e) => errors.push(e) });
    try {
      expect(await roundTrip(tunnel.remotePort, 'x')).toBe('');
      expect((errors[0] as NodeJS.ErrnoException | undefined)?.code).toBe('ECONNREFUSED');
      expect(tunnel.activeConnections).toBe(0);
    } finally {
      await tunnel.close();
    }
  });
});
