// Row 11's floor: a bare `ws` relay, in its own process, standing where the service stands. Each
// frame a client sends goes on to the next upstream echo server (RELAY_UPSTREAMS: ws:// urls, comma-
// separated; round robin) and its echo back to that client. An echo server answers in order, so one
// FIFO of waiting clients per upstream is the whole routing table. No decoding: a relay that only
// forwards is less than any scheduler does.
// Prints {"port":N} on stdout once listening; exits when its stdin closes (the parent is gone).
import WebSocket, { WebSocketServer } from 'ws';

const MAX = 512 * 1024 * 1024;
const urls = (process.env.RELAY_UPSTREAMS ?? '').split(',').filter(Boolean);
const upstreams = await Promise.all(urls.map((url) => new Promise((resolve, reject) => {
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: MAX, generateMask: (mask) => mask.fill(0) });
  ws.binaryType = 'nodebuffer';
  const waiting = [];
  let head = 0;
  ws.on('message', (data) => {
    const client = waiting[head];
    waiting[head++] = undefined;
    if (head > 4096 && head * 2 > waiting.length) {
      waiting.splice(0, head);
      head = 0;
    }
    if (client?.readyState === WebSocket.OPEN) client.send(data);
  });
  ws.once('open', () => resolve({ ws, waiting }));
  ws.once('error', reject);
})));
let next = 0;
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: MAX, perMessageDeflate: false });
wss.on('listening', () => process.stdout.write(`${JSON.stringify({ port: wss.address().port, pid: process.pid })}\n`));
wss.on('connection', (client) => {
  client.on('message', (data) => {
    const up = upstreams[next++ % upstreams.length];
    up.waiting.push(client);
    up.ws.send(data);
  });
});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
