// The limit for rows 1 and 6: a bare `ws` server, in its own process, that echoes each msgpack
// frame it gets. It decodes the frame and encodes it again (an agent must do at least that much
// with a task frame), with the same msgpackr envelope options as clustrix's protocol codec.
// Connections to /raw get the bytes back untouched (the transport alone: ws + loopback).
// Prints {"port":N} on stdout once listening; exits when its stdin closes (the parent is gone).
import { Packr } from 'msgpackr';
import { WebSocketServer } from 'ws';

const envelope = new Packr({ useRecords: false, mapsAsObjects: true });
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 512 * 1024 * 1024, perMessageDeflate: false });
wss.on('listening', () => process.stdout.write(`${JSON.stringify({ port: wss.address().port, pid: process.pid })}\n`));
wss.on('connection', (ws, req) => {
  if (req.url === '/raw') ws.on('message', (data) => ws.send(data));
  else ws.on('message', (data) => ws.send(envelope.pack(envelope.unpack(data))));
});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
