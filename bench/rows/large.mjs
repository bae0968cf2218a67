// Row 6: large values: round trip of a 10 MB typed array as argument and result
// (`run(a => a, new Float64Array(1_310_720))`), 1 agent × 1 slot, against two bare ws echoes
// (server in another process): the same 10 MB task frame, msgpack-decoded and re-encoded by the
// server as an agent must; and the raw 10 MB bytes (the transport alone).
// MB/s = payload MB (10.49, one direction) ÷ round-trip seconds.
import { pick } from '../lib/config.mjs';
import { loadClustrix, MB } from '../lib/clustrix.mjs';
import { attempt, comparison, latency, perSample, rounds } from '../lib/metrics.mjs';
import { startEchoServer, connectEcho } from '../refs/ws-echo-client.mjs';

export const meta = { id: 'large', row: 6, title: 'Large values (10 MB Float64Array argument and result)' };

export async function run(ctx, log) {
  const LEN = 1_310_720;
  const BYTES = LEN * 8;
  const PER_ROUND = pick(4, 2);
  const ROUNDS = pick(6, 2);
  const arr = new Float64Array(LEN).map((_, i) => i * 0.5);
  const check = (v) => {
    if (!(v instanceof Float64Array) || v.length !== LEN || v[LEN - 1] !== (LEN - 1) * 0.5) throw new Error('wrong 10 MB result');
  };
  // The three are measured in the same rounds, one after the other, so a change in the machine's
  // load during the row weighs on each alike.
  const failures = [];
  const subjects = [];
  const closers = [];
  const setup = async (key, what, open) => {
    const got = await attempt(failures, what, open, log);
    if (!got) return;
    closers.push(got.close);
    subjects.push({ key, once: got.once, rounds: [] });
  };
  try {
    await setup('clustrix', 'clustrix', async () => {
      const { Cluster } = await loadClustrix();
      const cluster = await Cluster.start({ agents: 1, slots: 1 });
      return { once: () => cluster.run((a) => a, arr), close: () => cluster.close() };
    });
    const server = await attempt(failures, 'ws echo server', () => startEchoServer(), log);
    if (server) {
      closers.push(() => server.stop());
      await setup('echo', 'ws msgpack echo', async () => {
        const client = await connectEcho(server.url);
        return { once: async () => (await client.roundTrip([arr]))[0], close: () => client.close() };
      });
      await setup('raw', 'ws raw echo', async () => {
        const rawClient = await connectEcho(server.url, { raw: true });
        const bytes = Buffer.from(arr.buffer, arr.byteOffset, arr.byteLength);
        return {
          once: async () => {
            const back = await rawClient.rawRoundTrip(bytes);
            // a view when the echo is 8-byte aligned, else one copy: what a client must do to use it
            return back.byteOffset % 8 === 0 ? new Float64Array(back.buffer, back.byteOffset, LEN) : new Float64Array(new Uint8Array(back).buffer);
          },
          close: () => rawClient.close(),
        };
      });
    }
    await attempt(failures, '10 MB round trips', () => rounds({ warmup: 1, count: ROUNDS, log, label: `10 MB: ${subjects.map((s) => s.key).join(' + ')}` }, async ({ warmup }) => {
      for (const subject of subjects) {
        const lat = [];
        for (let i = 0; i < PER_ROUND; i++) {
          const t = performance.now();
          check(await subject.once());
          lat.push(performance.now() - t);
        }
        if (!warmup) subject.rounds.push(lat);
      }
    }), log);
  } finally {
    for (const close of closers.reverse()) await close();
  }
  const measured = (key) => {
    const r = subjects.find((s) => s.key === key)?.rounds;
    return r?.length ? r : null;
  };
  const clx = measured('clustrix');
  const echo = measured('echo');
  const raw = measured('raw');
  const mbps = (perRoundMs) => perRoundMs.flat().map((ms) => BYTES / MB / (ms / 1000));
  const metrics = [];
  const comparisons = [];
  const clxLat = clx && latency('clustrix-rtt', 'clustrix `run(a => a, new Float64Array(1_310_720))`: round trip', clx);
  const echoLat = echo && latency('echo-rtt', 'reference: bare ws + msgpackr echo of the same 10 MB task frame: round trip', echo, { reference: true });
  const rawLat = raw && latency('raw-rtt', 'reference: bare ws echo of the raw 10 MB: round trip', raw, { reference: true });
  metrics.push(...[clxLat, echoLat, rawLat].filter(Boolean));
  if (clx) metrics.push(perSample('clustrix-mbps', 'clustrix 10 MB round trip: MB/s', 'MB/s', 'higher', mbps(clx)));
  if (echo) metrics.push(perSample('echo-mbps', 'reference: ws + msgpackr echo: MB/s', 'MB/s', 'higher', mbps(echo), { reference: true }));
  if (raw) metrics.push(perSample('raw-mbps', 'reference: ws raw echo: MB/s', 'MB/s', 'higher', mbps(raw), { reference: true }));
  if (clxLat && echoLat) comparisons.push(comparison('vs-echo', 'clustrix MB/s ÷ ws + msgpackr echo MB/s (medians)', echoLat.median / clxLat.median));
  if (clxLat && rawLat) comparisons.push(comparison('vs-raw', 'clustrix MB/s ÷ ws raw echo MB/s (medians)', rawLat.median / clxLat.median, { op: '>=', value: 0.7 }));
  return { metrics, comparisons, notes: [`payload ${(BYTES / MB).toFixed(2)} MB each way; MB/s = payload ÷ round-trip time`], failures };
}
