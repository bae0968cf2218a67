// connect: 'tunnel', honestly: the coordinator listens on this machine's loopback only (a laptop),
// the "login node" is the test sshd (testuser@127.0.0.1:2222, GatewayPorts no), and the real agent
// runs in network namespace clx-compute, which reaches only the login node address 10.201.0.1.
// So the agent can reach the coordinator through the relay + SSH forward and by no other way,
// which the control tests check with the same agent against every other address.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import os from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { detectRelayHost, openTunnel, TunnelError, type Tunnel } from '../../coordinator/backends/connect/index.js';
import { createLogger } from '../../coordinator/util/logger.js';
import { AgentServer, welcomeMessage, type AcceptedAgent, type AgentSocket } from '../../coordinator/engine/agent-server.js';
import { ensureCached, SshConnection } from '../../coordinator/backends/ssh/index.js';
import { CloseCode } from '../../protocol/version.js';
import { agentBundle, isAlive, readEnviron, sleep, waitUntil } from '../helpers/processes.js';
import { remoteScratch, SSH, sshOptions } from '../ssh/ssh-env.js';
import { LOGIN_ADDR, requireNetns, startNetnsAgent, tunnelTestsEnabled, type NetnsAgent } from './netns.js';

const HEARTBEAT_MS = 5_000;
const MAX_FRAME = 16 * 1024 * 1024;

/** A real AgentServer (coordinator/server.ts) that welcomes every agent with the right token. */
async function coordinator(host: string, token: string) {
  const accepted: AcceptedAgent[] = [];
  const log: string[] = [];
  const STORE = { objectStoreBytes: 1024 * 1024, objectSpillBytes: 1024 * 1024 };
  const server = new AgentServer(
    { token, maxFrameBytes: MAX_FRAME, heartbeatMs: HEARTBEAT_MS, authTimeoutMs: 5_000, tls: null },
    (agent) => {
      accepted.push(agent);
      agent.socket.send(welcomeMessage(agent.hello.agentId ?? 'x', HEARTBEAT_MS, STORE));
    },
    createLogger('warn', (l) => log.push(l)),
  );
  const { port } = await server.listen(host, 0);
  return { server, port, accepted, log };
}

/** The agent's next message of a type, as the accepted socket decodes it. */
function nextMessage(socket: AgentSocket, type: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    socket.setHandlers({
      messages: (messages) => {
        const found = messages.find((m) => m.type === type);
        if (found) resolve(found as unknown as Record<string, unknown>);
      },
      closed: () => undefined,
    });
  });
}

function relayPids(agentPath: string): number[] {
  try {
    return execFileSync('pgrep', ['-u', SSH.user, '-f', agentPath], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

function refused(port: number, host = '127.0.0.1'): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.on('connect', () => {
      s.destroy();
      resolve(undefined);
    });
    s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code));
  });
}

describe.skipIf(!tunnelTestsEnabled)("connect: 'tunnel' through a relay on the login node, from a network namespace", () => {
  const token = randomBytes(24).toString('base64url');
  const scratch = remoteScratch('connect');
  const remoteDir = `~/${scratch}`;
  let conn: SshConnection;
  let agentPath: string;
  let coord: Awaited<ReturnType<typeof coordinator>>;
  const agents: NetnsAgent[] = [];
  const tunnels: Tunnel[] = [];

  beforeAll(async () => {
    requireNetns(); // with CLUSTRIX_TEST_CLUSTER=1 and no namespace: fail here, loudly
    conn = await SshConnection.connect(sshOptions());
    agentPath = (await ensureCached(conn, agentBundle, { name: 'agent.cjs' })).path;
    // Like a laptop: the coordinator listens on loopback only.
    coord = await coordinator('127.0.0.1', token);
  });
  afterEach(async () => {
    for (const a of agents.splice(0)) if (a.child.pid !== undefined && isAlive(a.child.pid)) a.child.kill('SIGKILL');
    await Promise.all(tunnels.splice(0).map((t) => t.close()));
  });
  afterAll(async () => {
    await coord?.server.close();
    await conn?.exec(`rm -rf ~/${scratch}`).catch(() => undefined);
    await conn?.close();
  });

  async function tunnel(extra: Partial<Parameters<typeof openTunnel>[0]> = {}): Promise<Tunnel> {
    const t = await openTunnel({ connection: conn, localPort: coord.port, relayHost: LOGIN_ADDR, agentPath, node: 'node', remoteDir, ...extra });
    tunnels.push(t);
    return t;
  }

  function agent(url: string, agentId: string, graceMs: number, agentToken = token): NetnsAgent {
    const a = startNetnsAgent({ url, token: agentToken, agentId, graceMs });
    agents.push(a);
    return a;
  }

  test('the real agent in the namespace completes the handshake through relay + forward, and traffic flows both ways', async () => {
    const t = await tunnel();
    expect(t.relayHost).toBe(LOGIN_ADDR);
    expect(t.url).toBe(`ws://${LOGIN_ADDR}:${t.relayPort}`);
    expect(t.relayPort).not.toBe(t.remotePort);

    // The relay runs as the login node's user, from the uploaded bundle, with addresses only: no secret.
    const status = readFileSync(`/proc/${t.relayPid}/status`, 'utf8');
    expect(status).toMatch(new RegExp(`^Uid:\\s+${execFileSync('id', ['-u', SSH.user], { encoding: 'utf8' }).trim()}\\s`, 'm'));
    expect(readFileSync(`/proc/${t.relayPid}/cmdline`, 'utf8').split('\0')).toContain(agentPath);
    const relayEnv = readEnviron(t.relayPid);
    expect(relayEnv.CLUSTRIX_RELAY_LISTEN).toBe(`${LOGIN_ADDR}:0`);
    expect(relayEnv.CLUSTRIX_RELAY_TARGET).toBe(`127.0.0.1:${t.remotePort}`);
    expect(Object.keys(relayEnv).filter((k) => k.includes('TOKEN'))).toEqual([]);
    expect(relayPids(agentPath)).toContain(t.relayPid);

    const before = coord.accepted.length;
    const a = agent(t.url, 'netns-through-tunnel', 15_000);
    await waitUntil(async () => coord.accepted.some((x) => x.hello.agentId === 'netns-through-tunnel') || a.child.exitCode !== null, {
      timeoutMs: 20_000,
      what: 'the agent in the namespace to say hello through the tunnel',
    });
    const accepted = coord.accepted.find((x) => x.hello.agentId === 'netns-through-tunnel');
    if (!accepted) throw new Error(`the agent exited without connecting:\n${a.stderr()}`);
    expect(coord.accepted.length).toBe(before + 1);
    // It is that process (ip netns exec execs node in place), and it came in over the SSH forward.
    expect(accepted.hello.pid).toBe(a.child.pid);
    expect(accepted.hello.token).toBe(token);
    expect(t.activeConnections).toBe(1);

    // After the welcome: a ping reaches the agent and its pong comes back, through the same path.
    const pong = nextMessage(accepted.socket, 'pong');
    accepted.socket.send({ type: 'ping', t: 424242 });
    expect((await pong).t).toBe(424242);

    // A shutdown close ends the agent cleanly (exit 0).
    accepted.socket.close(CloseCode.shutdown, 'test done');
    expect((await a.exited).code).toBe(0);
  });

  test('control: the same agent in the namespace cannot reach the coordinator directly, nor the forward, nor any other host address', async () => {
    const t = await tunnel();
    // A second coordinator on every address of this machine: if anything but 10.201.0.1 were
    // reachable from the namespace, an agent would get through to it.
    const wide = await coordinator('0.0.0.0', token);
    try {
      const otherAddresses = Object.values(os.networkInterfaces())
        .flat()
        .filter((i) => i !== undefined && i.family === 'IPv4' && !i.internal && i.address !== LOGIN_ADDR)
        .map((i) => i!.address);
      const blocked: Array<{ id: string; url: string }> = [
        // the laptop coordinator itself: 127.0.0.1 inside the namespace is the namespace's own loopback
        { id: 'ctl-coordinator-loopback', url: `ws://127.0.0.1:${coord.port}` },
        // the SSH forward on the login node: GatewayPorts no keeps it on loopback, so it is not on 10.201.0.1
        { id: 'ctl-forward-on-login-addr', url: `ws://${LOGIN_ADDR}:${t.remotePort}` },
        { id: 'ctl-wide-loopback', url: `ws://127.0.0.1:${wide.port}` },
        ...otherAddresses.map((addr, i) => ({ id: `ctl-wide-other-${i}`, url: `ws://${addr}:${wide.port}` })),
      ];
      const started = Date.now();
      const runs = blocked.map((b) => ({ ...b, agent: agent(b.url, b.id, 1_500) }));
      // The positive control, same namespace and same server: the login node address does answer.
      const reachable = agent(`ws://${LOGIN_ADDR}:${wide.port}`, 'ctl-wide-login-addr', 15_000);
      await waitUntil(async () => wide.accepted.some((x) => x.hello.agentId === 'ctl-wide-login-addr'), { timeoutMs: 20_000, what: 'the positive control' });

      for (const r of runs) {
        const exit = await r.agent.exited;
        expect({ id: r.id, code: exit.code }).toEqual({ id: r.id, code: 1 });
        expect(r.agent.stderr()).toMatch(/has been unreachable for \d+ s \(grace 1\.5 s\)/);
      }
      expect(Date.now() - started).toBeLessThan(20_000);
      const helloIds = [...coord.accepted, ...wide.accepted].map((x) => x.hello.agentId);
      for (const r of runs) expect(helloIds).not.toContain(r.id);
      // Nothing reached either server's handshake on those paths: no refusals were logged.
      expect([...coord.log, ...wide.log].filter((l) => l.includes('refused'))).toEqual([]);
      // The blocked list really did include the host's other addresses when it has any.
      expect(runs.length).toBe(3 + otherAddresses.length);
      for (const x of wide.accepted) x.socket.close(CloseCode.shutdown, 'test done');
      expect((await reachable.exited).code).toBe(0);
    } finally {
      await wide.server.close();
    }
  });

  test('a wrong token through the tunnel is refused by the coordinator, end to end', async () => {
    const t = await tunnel();
    const a = agent(t.url, 'netns-wrong-token', 15_000, 'not-the-cluster-token');
    const exit = await a.exited;
    expect(exit.code).toBe(2);
    expect(a.stderr()).toMatch(new RegExp(`closed the connection \\(${CloseCode.authFailed}: wrong token\\)`));
    expect(coord.accepted.map((x) => x.hello.agentId)).not.toContain('netns-wrong-token');
    expect(coord.log.join('')).toMatch(/refused an agent connection from 127\.0\.0\.1: wrong token/);
  });

  test('close() stops the relay (checked on the login node) and the forward; idempotent', async () => {
    const t = await tunnel();
    const home = (await conn.exec('printf %s "$HOME"')).stdout;
    const relayEnv = readEnviron(t.relayPid);
    const portFile = relayEnv.CLUSTRIX_RELAY_PORT_FILE!;
    expect(portFile.startsWith(`${home}/${scratch}/relay/`)).toBe(true);
    expect(existsSync(portFile)).toBe(true);
    expect(await refused(t.remotePort)).toBeUndefined();

    await t.close();
    await t.close();
    expect(isAlive(t.relayPid)).toBe(false);
    expect(relayPids(agentPath)).not.toContain(t.relayPid);
    expect((await conn.exec(`pgrep -u ${SSH.user} -f ${agentPath} || true`)).stdout.split('\n')).not.toContain(String(t.relayPid));
    expect(existsSync(portFile)).toBe(false);
    expect(await refused(t.relayPort, LOGIN_ADDR)).toBe('ECONNREFUSED');
    expect(await refused(t.remotePort)).toBe('ECONNREFUSED');
  });

  test('no orphan: when the SSH connection dies without close(), the relay exits by itself after its grace', async () => {
    const own = await SshConnection.connect(sshOptions());
    const t = await openTunnel({ connection: own, localPort: coord.port, relayHost: LOGIN_ADDR, agentPath, remoteDir, relayGraceMs: 1_500 });
    expect(isAlive(t.relayPid)).toBe(true);
    const portFile = readEnviron(t.relayPid).CLUSTRIX_RELAY_PORT_FILE!;
    const logFile = portFile.replace(/\.port$/, '.log');
    await sleep(2_000); // idle past the grace while the forward is up: it stays
    expect(isAlive(t.relayPid)).toBe(true);
    const droppedAt = Date.now();
    await own.close(); // the coordinator "dies": its forward goes with the connection
    await waitUntil(async () => !isAlive(t.relayPid), { timeoutMs: 10_000, what: 'the relay to exit by itself' });
    expect(Date.now() - droppedAt).toBeGreaterThanOrEqual(1_000);
    expect(relayPids(agentPath)).not.toContain(t.relayPid);
    await t.close(); // nothing left to do, and it says nothing
    // It removed its port file itself; its log (left for whoever wonders where it went) says why it went.
    expect(existsSync(portFile)).toBe(false);
    expect(readFileSync(logFile, 'utf8')).toMatch(/exiting: no connection and target 127\.0\.0\.1:\d+ unreachable for \d+ ms \(grace 1500 ms\)/);
    await conn.exec(`rm -f ${logFile}`);
  });

  test('a relay address that is not the login node\'s fails with the relay\'s own words, leaving nothing behind', async () => {
    const err = await openTunnel({ connection: conn, localPort: coord.port, relayHost: '10.201.0.2', agentPath, remoteDir }).then(
      () => {
        throw new Error('openTunnel should have failed');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TunnelError);
    expect((err as TunnelError).code).toBe('TUNNEL_FAILED');
    expect((err as TunnelError).message).toMatch(/exited before listening on 10\.201\.0\.2:0/);
    expect((err as TunnelError).output).toMatch(/EADDRNOTAVAIL/);
    // Earlier tunnels were closed (afterEach), and this one removed its port file and log.
    expect((await conn.exec(`ls -A ~/${scratch}/relay/`)).stdout).toBe('');
    expect(relayPids(agentPath).filter((pid) => readEnviron(pid).CLUSTRIX_RELAY_LISTEN === '10.201.0.2:0')).toEqual([]);
  });

  test('detectRelayHost answers the login node\'s first `hostname -I` address', async () => {
    const expected = execFileSync('hostname', ['-I'], { encoding: 'utf8' }).trim().split(/\s+/)[0];
    expect(await detectRelayHost(conn)).toBe(expected);
  });
});
