// Client side of the bare ws echo (see ws-echo-server.mjs): sends the frame clustrix's coordinator
// sends for one task — a msgpack array holding one `task` message whose `args` are the arguments
// packed with the same structured msgpackr options clustrix uses — and decodes the echo, args too.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Packr } from 'msgpackr';
import WebSocket from 'ws';
import { spawnTracked } from '../lib/proc.mjs';

const envelope = new Packr({ useRecords: false, mapsAsObjects: true });
const structured = new Packr({ structuredClone: true, moreTypes: true, useRecords: false });
const CODE_HASH = randomBytes(8).toString('hex');

/**
 * Starts the echo server in another process; resolves with its url and a stop(). `script`: another
 * server of the same contract (prints {"port","pid"}, exits when stdin closes), e.g. ws-relay.mjs.
 */
export function startEchoServer({ script = 'ws-echo-server.mjs', env = process.env } = {}) {
  const server = fileURLToPath(new URL(`./${script}`, import.meta.url));
  const child = spawnTracked(process.execPath, [server], { env });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        const { port, pid } = JSON.parse(buf.slice(0, nl));
        resolve({
          url: `ws://127.0.0.1:${port}`,
          pid,
          stop: () => new Promise((res) => {
            if (child.exitCode !== null) return res();
            child.once('exit', () => res());
            child.stdin.end();
          }),
        });
      }
    });
    child.stderr.pipe(process.stderr);
    child.once('exit', (code) => reject(new Error(`echo server exited with ${code}`)));
  });
}

/**
 * Connects; `roundTrip(args)` sends one task frame with these args and resolves with the decoded
 * echo. `rawRoundTrip(bytes)` (connect with { raw: true }) sends bytes and resolves with the bytes echoed.
 */
export async function connectEcho(baseUrl, { raw = false } = {}) {
  const url = raw ? `${baseUrl}/raw` : baseUrl;
  // A zero masking key, as clustrix's own clients use (protocol/client-socket.ts): the reference
  // is the fastest bare ws, so neither side pays an XOR pass over the bytes.
  const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 512 * 1024 * 1024, generateMask: (mask) => mask.fill(0) });
  ws.binaryType = 'nodebuffer';
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let pending = null;
  ws.on('message', (data) => {
    const p = pending;
    pending = null;
    p?.(data);
  });
  let seq = 0;
  return {
    roundTrip(args) {
      const frame = envelope.pack([
        {
          type: 'task',
          id: `t${String(seq++).padStart(11, '0')}`,
          code: CODE_HASH,
          export: null,
          args: structured.pack(args).slice(),
          inline: false,
          chunk: false,
          timeoutMs: null,
        },
      ]);
      return new Promise((resolve) => {
        pending = (data) => {
          const [msg] = envelope.unpack(data);
          resolve(structured.unpack(msg.args));
        };
        ws.send(frame);
      });
    },
    rawRoundTrip(bytes) {
      return new Promise((resolve) => {
        pending = resolve;
        ws.send(bytes);
      });
    },
    close: () => new Promise((resolve) => {
      ws.once('close', resolve);
      ws.close();
    }),
  };
}
