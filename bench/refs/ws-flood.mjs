// Row 11's floor: the batch client's traffic without clustrix. Connects to FLOOD_URL (a ws-relay),
// prints MAPPING, then keeps FLOOD_WINDOW task frames (the shape ws-echo-client sends) in flight
// until FLOOD_N have come back and FLOOD_MIN_MS have passed (as long as clustrix's map took, so the
// interactive side gets as many samples), decoding each echo as a client decodes a result, and
// prints `BENCH_JSON {"n","ms"}`.
import { Packr } from 'msgpackr';
import WebSocket from 'ws';
import { emitJson } from '../lib/proc.mjs';

const n = Number(process.env.FLOOD_N ?? 100_000);
const window = Number(process.env.FLOOD_WINDOW ?? 1024);
const minMs = Number(process.env.FLOOD_MIN_MS ?? 0);
const envelope = new Packr({ useRecords: false, mapsAsObjects: true });
const structured = new Packr({ structuredClone: true, moreTypes: true, useRecords: false });
const ws = new WebSocket(process.env.FLOOD_URL, { perMessageDeflate: false, generateMask: (mask) => mask.fill(0) });
ws.binaryType = 'nodebuffer';
await new Promise((resolve, reject) => {
  ws.once('open', resolve);
  ws.once('error', reject);
});
const frame = (i) => envelope.pack([{ type: 'task', id: `t${String(i).padStart(11, '0')}`, code: 'f00dfeedf00dfeed', export: null, args: structured.pack([i]).slice(), inline: false, chunk: false, timeoutMs: null }]);
let sent = 0;
let back = 0;
const t = performance.now();
process.stdout.write('MAPPING\n');
const more = () => sent < n || performance.now() - t < minMs;
await new Promise((resolve) => {
  ws.on('message', (data) => {
    const [msg] = envelope.unpack(data);
    structured.unpack(msg.args);
    if (++back === sent && !more()) return resolve();
    if (more()) ws.send(frame(sent++));
  });
  while (sent < window && more()) ws.send(frame(sent++));
});
emitJson({ n: sent, ms: performance.now() - t });
ws.close();
process.exit(0);
