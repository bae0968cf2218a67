// Row 12: object refs (issue 13's figures), 2 agents × 1 slot.
// (a) a 100 MB Float64Array made on one agent and read on the other: the value is made by a task
//     (it stays in that agent's store), then `broadcast(xs => xs.length, ref)` reads it on both
//     agents (one has it, the other fetches it agent to agent): the time of that broadcast against
//     a one-way raw ws transfer of the same bytes between two processes (half the raw echo's round
//     trip, refs/ws-echo-server.mjs), as MB/s.
// (b) `put` of 100 MB, then `map` of 200 tasks reading it (shared `args`): the bytes each agent
//     received meanwhile (objectStats().links: coordinator link + peers) ÷ the value's size.
// (c) a chain of 1,000 dependent trivial tasks (`submit(v => v + 1, previous)`): time per step
//     against one awaited `run(x => x + 1, i)` round trip on the same cluster.
import { pick } from '../lib/config.mjs';
import { loadClustrix, MB } from '../lib/clustrix.mjs';
import { attempt, comparison, latency, perRound, rounds } from '../lib/metrics.mjs';
import { connectEcho, startEchoServer } from '../refs/ws-echo-client.mjs';

export const meta = { id: 'objects', row: 12, title: 'Object refs: agent-to-agent transfer, put read by a map, dependent chain' };

export async function run(ctx, log) {
  const BYTES = pick(100, 10) * MB;
  const LEN = BYTES / 8;
  const ROUNDS = pick(5, 2);
  const MAP_TASKS = 200;
  const CHAIN = pick(1000, 200);
  const RTT_CALLS = pick(500, 100);
  const metrics = [];
  const comparisons = [];
  const notes = [];
  const failures = [];

  let transfer = null;
  let received = null;
  let chain = null;
  let rtt = null;
  let raw = null;
  await attempt(failures, 'clustrix', async () => {
    const { Cluster } = await loadClustrix();
    // The raw reference runs in the same rounds, right after each clustrix transfer, so a change
    // in the machine's load during the row weighs on both alike.
    const server = await startEchoServer();
    const echo = await connectEcho(server.url, { raw: true });
    const rawBytes = Buffer.from(new Float64Array(LEN).fill(1).buffer);
    const rawOneWay = async () => {
      const t = performance.now();
      const back = await echo.rawRoundTrip(rawBytes);
      if (back.byteLength !== BYTES) throw new Error('short echo');
      return (performance.now() - t) / 2;
    };
    const cluster = await Cluster.start({ agents: 2, slots: 1 });
    const traffic = async () => new Map((await cluster.objectStats()).links.map((l) => [l.agentId, l]));
    try {
      // (a)
      let peerBytes = [];
      transfer = await rounds({ warmup: 1, count: ROUNDS, log, label: `${BYTES / MB} MB agent to agent, then raw ws` }, async ({ warmup }) => {
        const made = cluster.submit((n) => new Float64Array(n).fill(1), LEN);
        await cluster.wait([made]);
        const before = await traffic();
        const t = performance.now();
        const lengths = await cluster.broadcast((xs) => xs.length, made);
        const ms = performance.now() - t;
        if (lengths.length !== 2 || lengths.some((n) => n !== LEN)) throw new Error(`broadcast read lengths ${lengths.join(', ')}, not ${LEN} on both agents`);
        const after = await traffic();
        peerBytes = [...after.values()].map((l) => l.fromPeers - (before.get(l.agentId)?.fromPeers ?? 0));
        await made.free();
        const rawMs = await rawOneWay();
        if (!warmup) (raw ??= []).push([rawMs]);
        return [ms];
      });
      notes.push(`(a) bytes the agents received from peers in the last round: ${peerBytes.map((b) => (b / MB).toFixed(1)).join(' and ')} MB (value ${(BYTES / MB).toFixed(0)} MB)`);

      // (b)
      const perAgent = [];
      const table = new Float64Array(LEN).fill(1);
      received = await rounds({ warmup: 0, count: ROUNDS, log, label: `put ${BYTES / MB} MB + map ×${MAP_TASKS}` }, async () => {
        const before = await traffic();
        const ref = cluster.put(table);
        const out = await cluster.map((i, t) => t[i] + t.length, Array.from({ length: MAP_TASKS }, (_, i) => i), { args: [ref] });
        if (out.length !== MAP_TASKS || out[0] !== 1 + LEN) throw new Error('wrong map result');
        const after = await traffic();
        const ratios = [...after.values()].map((l) => {
          const b = before.get(l.agentId);
          return (l.fromCoordinator + l.fromPeers - (b ? b.fromCoordinator + b.fromPeers : 0)) / BYTES;
        });
        perAgent.push(ratios);
        await ref.free();
        return Math.max(...ratios);
      });
      notes.push(`(b) bytes received ÷ value size per agent, each round: ${perAgent.map((r) => r.map((x) => x.toFixed(3)).join('/')).join(', ')}`);

      // (c)
      // Each round: the chain, then the round trips it is compared with (interleaved for the same reason).
      chain = await rounds({ warmup: 1, count: ROUNDS, log, label: `chain of ${CHAIN}, then run round trip ×${RTT_CALLS}` }, async ({ warmup }) => {
        const t = performance.now();
        let x = cluster.submit(() => 0);
        for (let i = 0; i < CHAIN; i++) x = cluster.submit((v) => v + 1, x);
        if ((await x) !== CHAIN) throw new Error('wrong chain result');
        const step = (performance.now() - t) / (CHAIN + 1);
        const lat = [];
        for (let i = 0; i < RTT_CALLS; i++) {
          const t1 = performance.now();
          if ((await cluster.run((v) => v + 1, i)) !== i + 1) throw new Error('wrong run result');
          lat.push(performance.now() - t1);
        }
        if (!warmup) (rtt ??= []).push(lat);
        return step;
      });
    } finally {
      await cluster.close();
      await echo.close();
      await server.stop();
    }
  }, log);

  const mbps = (perRoundMs) => perRoundMs.map((r) => BYTES / MB / (r[0] / 1000));
  if (transfer) metrics.push(perRound('a2a-mbps', `(a) clustrix ${BYTES / MB} MB made on one agent, read on the other (broadcast of a ref): MB/s`, 'MB/s', 'higher', mbps(transfer)));
  if (raw) metrics.push(perRound('raw-mbps', `reference: bare ws, the same ${BYTES / MB} MB one way between two processes (half a raw echo): MB/s`, 'MB/s', 'higher', mbps(raw), { reference: true }));
  if (transfer && raw) {
    const a = metrics.find((m) => m.key === 'a2a-mbps');
    const r = metrics.find((m) => m.key === 'raw-mbps');
    comparisons.push(comparison('a2a-vs-raw', '(a) agent-to-agent MB/s ÷ raw ws MB/s (medians)', a.median / r.median, { op: '>=', value: 0.7 }));
  }
  if (received) {
    const m = perRound('put-received', `(b) put ${BYTES / MB} MB + map of ${MAP_TASKS} tasks over 2 agents: bytes an agent received ÷ value size (the larger of the two)`, '×', 'lower', received);
    metrics.push(m);
    comparisons.push(comparison('put-once', '(b) bytes each agent received ÷ value size (median of the larger; goal ≈ 1, here ≤ 1.05)', m.median, { op: '<=', value: 1.05 }));
  }
  if (chain) metrics.push(perRound('chain-step', `(c) chain of ${CHAIN} dependent trivial tasks: ms per step`, 'ms', 'lower', chain));
  if (rtt) metrics.push(latency('run-rtt', 'reference: one awaited `run(x => x + 1, i)` on the same cluster: round trip', rtt, { reference: true }));
  if (chain && rtt) {
    const c = metrics.find((m) => m.key === 'chain-step');
    const r = metrics.find((m) => m.key === 'run-rtt');
    comparisons.push(comparison('chain-vs-rtt', '(c) chain ms per step ÷ run round trip (medians)', c.median / r.median, { op: '<=', value: 2 }));
  }
  return { metrics, comparisons, notes, failures };
}
