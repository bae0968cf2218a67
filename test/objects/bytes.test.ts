// Bytes per link (`objectStats().links`): a value made and read on one agent puts none of its
// bytes on any socket, one read on the other agent crosses agent to agent once, and a `put` read by 200 map tasks over 2 agents crosses to each agent once
// — in both modes. The counts are frame bytes, so task messages and heartbeats are in them too:
// the assertions leave a margin far below the value's size.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster, LinkBytes } from 'clustrix';
import { MODES, openCluster, type Opened } from './modes.js';

const MB = 1024 * 1024;
/** Task messages, results and pings of one test: far less than one value. */
const MARGIN = 256 * 1024;

type Totals = Map<string, { received: number; sent: number }>;
const totals = (links: LinkBytes[]): Totals =>
  new Map(links.map((l) => [l.agentId, { received: l.fromCoordinator + l.fromPeers, sent: l.toCoordinator + l.toPeers }]));
const grown = (before: Totals, after: Totals, id: string): { received: number; sent: number } => {
  const a = after.get(id)!;
  const b = before.get(id) ?? { received: 0, sent: 0 };
  return { received: a.received - b.received, sent: a.sent - b.sent };
};

describe.each(MODES)('bytes per link (%s)', (mode) => {
  let opened: Opened;
  let cluster: Cluster;
  beforeAll(async () => {
    opened = await openCluster(mode, { agents: 2, slots: 1 });
    cluster = opened.cluster;
  });
  afterAll(async () => {
    await opened?.close();
  });

  it('lists every connected agent with its counts', async () => {
    const { links } = await cluster.objectStats();
    const agents = await cluster.agents();
    expect(links.map((l) => l.agentId).sort()).toEqual(agents.map((a) => a.id).sort());
    for (const l of links) expect(l.fromCoordinator).toBeGreaterThan(0); // its welcome, at least
  });

  it('a value made and read on the same agent crosses no socket', { timeout: 60_000 }, async () => {
    const before = totals((await cluster.objectStats()).links);
    const made = cluster.submit((n: number) => new Float64Array(n).fill(2), (4 * MB) / 8);
    const sum = cluster.submit((xs: Float64Array) => xs.reduce((s, x) => s + x, 0), made);
    expect(await sum).toBe(MB);
    const stats = await cluster.objectStats();
    const holders = stats.agents.filter((a) => a.bytes >= 4 * MB);
    expect(holders).toHaveLength(1);
    const after = totals(stats.links);
    for (const id of after.keys()) {
      const g = grown(before, after, id);
      expect(g.received, `bytes agent ${id} received`).toBeLessThan(MARGIN);
      expect(g.sent, `bytes agent ${id} sent`).toBeLessThan(MARGIN);
    }
    await made.free();
  });

  it('a value read on the other agent crosses agent to agent once, counted on both ends', { timeout: 60_000 }, async () => {
    const size = 4 * MB;
    const made = cluster.submit((n: number) => new Float64Array(n).fill(1), size / 8);
    await cluster.wait([made]);
    const before = new Map((await cluster.objectStats()).links.map((l) => [l.agentId, l]));
    // On both agents: one reads its own copy, the other fetches it from the first.
    expect(await cluster.broadcast((xs: Float64Array) => xs.length, made)).toEqual([size / 8, size / 8]);
    const links = (await cluster.objectStats()).links;
    const peerIn = links.map((l) => l.fromPeers - before.get(l.agentId)!.fromPeers).sort((a, b) => a - b);
    const peerOut = links.map((l) => l.toPeers - before.get(l.agentId)!.toPeers).sort((a, b) => a - b);
    expect(peerIn[0]).toBeLessThan(MARGIN);
    expect(peerIn[1]).toBeGreaterThanOrEqual(size);
    expect(peerIn[1]).toBeLessThan(size + MARGIN);
    expect(peerOut[1]).toBeGreaterThanOrEqual(size);
    for (const l of links) expect(l.fromCoordinator - before.get(l.agentId)!.fromCoordinator).toBeLessThan(MARGIN);
    await made.free();
  });

  it('a put read by 200 map tasks over 2 agents reaches each agent once', { timeout: 60_000 }, async () => {
    const size = 4 * MB;
    const before = totals((await cluster.objectStats()).links);
    const table = cluster.put(new Float64Array(size / 8).fill(1));
    const got = await cluster.map((i: number, t: Float64Array) => t[i]! + t.length, Array.from({ length: 200 }, (_, i) => i), { args: [table] });
    expect(got).toEqual(Array.from({ length: 200 }, () => 1 + size / 8));
    const after = totals((await cluster.objectStats()).links);
    expect(after.size).toBe(2);
    for (const id of after.keys()) {
      const g = grown(before, after, id);
      expect(g.received, `bytes agent ${id} received`).toBeGreaterThanOrEqual(size);
      expect(g.received, `bytes agent ${id} received`).toBeLessThan(size + MARGIN);
    }
    await table.free();
  });
});
