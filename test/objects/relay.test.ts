// The relay path of object transfer (tunnel mode): agent A runs on this host (its object server on
// 127.0.0.1), agent B in network namespace clx-compute, which reaches only 10.201.0.1 — where the
// tunnel relay (agent/relay.ts, the bundle in relay mode) forwards to the coordinator on loopback,
// as on a login node. B cannot reach A's object server, so a value made on A and needed by a task
// on B travels A → coordinator → B: the link counters show its bytes leaving A for the coordinator
// and reaching B from the coordinator, none between the agents, and the program never awaits it.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'clustrix';
import { agentBundle, coordinatorUrl, waitUntil } from '../helpers/processes.js';
import { LOGIN_ADDR, requireNetns, startNetnsAgent, tunnelTestsEnabled, type NetnsAgent } from '../connect/netns.js';
import { MODES, openCluster, type Opened } from './modes.js';

const TOKEN = 'relay-objects-test-token-0123456789';
const SIZE = 3_000_000;

/** The bundle in relay mode on the "login node" address, forwarding to the coordinator's port. */
async function startRelay(dir: string, target: string): Promise<{ child: ChildProcess; port: number }> {
  const portFile = join(dir, `relay-${process.pid}-${Math.random().toString(36).slice(2)}.port`);
  const child = spawn(process.execPath, [agentBundle], {
    env: { PATH: process.env.PATH ?? '', CLUSTRIX_RELAY_LISTEN: `${LOGIN_ADDR}:0`, CLUSTRIX_RELAY_TARGET: target, CLUSTRIX_RELAY_PORT_FILE: portFile },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitUntil(() => existsSync(portFile) || child.exitCode !== null, { timeoutMs: 10_000, what: 'the relay port file' });
  if (!existsSync(portFile)) throw new Error('the relay exited before listening');
  return { child, port: Number(readFileSync(portFile, 'utf8').trim()) };
}

describe.skipIf(!tunnelTestsEnabled).each(MODES)('values relayed by the coordinator between agents that cannot reach each other (%s)', (mode) => {
  let opened: Opened;
  let cluster: Cluster;
  let dir: string;
  let relay: ChildProcess | undefined;
  let inside: NetnsAgent | undefined;
  beforeAll(async () => {
    requireNetns();
    dir = mkdtempSync(join(tmpdir(), 'clustrix-relay-objects-'));
    opened = await openCluster(mode, { agents: 1, slots: 1, token: TOKEN });
    cluster = opened.cluster;
  });
  afterAll(async () => {
    inside?.child.kill('SIGKILL');
    relay?.kill('SIGKILL');
    await opened?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a value made on A reaches a task on B through the coordinator, not peer to peer', { timeout: 60_000 }, async () => {
    // Made while A is the only agent: it stays in A's store (larger than what travels inline).
    const made = cluster.submit((n: number) => new Uint8Array(n).fill(9), SIZE);
    await cluster.wait([made]);
    const [a] = await cluster.agents();
    const url = new URL(await coordinatorUrl(cluster));
    const started = await startRelay(dir, `127.0.0.1:${url.port}`);
    relay = started.child;
    inside = startNetnsAgent({ url: `${url.protocol}//${LOGIN_ADDR}:${started.port}${url.pathname}`, token: TOKEN, agentId: `netns-${process.pid}`, graceMs: 5_000 });
    await waitUntil(async () => (await cluster.agents()).length === 2, { timeoutMs: 20_000, what: `the agent in the namespace to connect (${inside?.stderr() ?? ''})` });
    const b = (await cluster.agents()).find((x) => x.id !== a!.id)!;
    const before = await cluster.objectStats();

    const onB = (xs: Uint8Array, _tag: string) => ({ pid: process.pid, n: xs.length, first: xs[0] });
    // B is the only agent that may run it: A's one slot is held by an actor meanwhile.
    const holder = await cluster.actor(class Hold {}, { agent: a!.id, resources: { cpus: 1 } });
    const got = await cluster.run(onB, made, 'on B');
    await holder.kill();
    expect(got).toEqual({ pid: b.pid, n: SIZE, first: 9 });

    const after = await cluster.objectStats();
    const delta = (id: string, key: 'fromCoordinator' | 'toCoordinator' | 'fromPeers' | 'toPeers'): number =>
      after.links.find((l) => l.agentId === id)![key] - (before.links.find((l) => l.agentId === id)?.[key] ?? 0);
    expect(delta(a!.id, 'toCoordinator')).toBeGreaterThanOrEqual(SIZE);
    expect(delta(b.id, 'fromCoordinator')).toBeGreaterThanOrEqual(SIZE);
    expect(delta(b.id, 'fromPeers')).toBeLessThan(SIZE / 10);
    expect(delta(a!.id, 'toPeers')).toBeLessThan(SIZE / 10);
    // B keeps its copy: the directory lists both agents as holders now.
    expect(after.agents.find((r) => r.agentId === b.id)?.bytes ?? 0).toBeGreaterThanOrEqual(SIZE);
    await made.free();
  });
});
