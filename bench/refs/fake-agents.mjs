// Simulated agents for the dispatch row: COUNT protocol-speaking connections to a coordinator
// (CLUSTRIX_URL, CLUSTRIX_TOKEN) from this one process, each with SLOTS slots, answering every task
// at once with a fixed result (so the coordinator is the bottleneck), and every ping with a pong.
// Uses the built package's own codec (PROTOCOL_DIST: dist/protocol/index.js).
// Prints {"connected":COUNT} once every connection is welcomed; exits when stdin closes.
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';

const { CLUSTRIX_URL: url, CLUSTRIX_TOKEN: token, PROTOCOL_DIST: dist } = process.env;
const count = Number(process.env.COUNT ?? 8);
const slots = Number(process.env.SLOTS ?? 1);
const { encodeFrame, decodeCoordinatorFrame, packValue, PROTOCOL_VERSION } = await import(pathToFileURL(dist).href);
const result = packValue(0);
const MAX = 256 * 1024 * 1024;

function connect(i) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: MAX });
    ws.binaryType = 'nodebuffer';
    ws.once('error', reject);
    ws.once('open', () => {
      ws.send(encodeFrame([{ type: 'hello', protocol: PROTOCOL_VERSION, token, agentId: null, jobId: null, host: `fake-${process.pid}`, pid: process.pid * 10_000 + i, cpus: slots, memoryBytes: 0, node: process.version, slots, inlineConcurrency: 64, walltimeLeftMs: null }]));
    });
    ws.on('message', (data) => {
      const out = [];
      for (const m of decodeCoordinatorFrame(data, MAX)) {
        if (m.type === 'welcome') resolve(ws);
        else if (m.type === 'task') out.push({ type: 'done', id: m.id, value: result, runMs: 0 });
        else if (m.type === 'ping') out.push({ type: 'pong', t: m.t, rssBytes: 0, running: 0, peerBytesIn: 0, peerBytesOut: 0 });
      }
      if (out.length > 0) ws.send(encodeFrame(out));
    });
  });
}

const sockets = [];
for (let i = 0; i < count; i += 64) {
  sockets.push(...(await Promise.all(Array.from({ length: Math.min(64, count - i) }, (_, k) => connect(i + k)))));
}
process.stdout.write(`${JSON.stringify({ connected: sockets.length })}\n`);
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
