// A connected map's frames as the real client and service write them, seen by a relay between
// the two: every task's submit crosses in a `submits` frame the service reads by hand
// (protocol/service-frames.ts), every result in a `results` frame the client reads by hand, and
// both are the bytes msgpackr writes for the same messages. A field added to a task's spec (or a
// message's shape changed) must not send a connected map back through msgpackr unnoticed.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { Cluster } from 'clustrix';
import { decodeClientFrame, decodeServiceFrame, encodeFrame } from 'clustrix/protocol';
// Built, not source: the service starts agents from the bundle next to its own compiled file.
import { ClusterService } from '../../dist/coordinator/service/index.js';
import { unpackResultsFrame, unpackSubmitsFrame } from '../../dist/protocol/service-frames.js';

const TASKS = 3000;
const LIMIT = 2 ** 31;

describe("a connected map's frames", () => {
  let service: ClusterService;
  let relay: WebSocketServer;
  let cluster: Cluster;
  const toService: Buffer[] = [];
  const toClient: Buffer[] = [];

  beforeAll(async () => {
    service = await ClusterService.start({ profile: `frames-${process.pid}`, cluster: { agents: 1, slots: 1 }, writeStateFile: false, dashboard: false });
    relay = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    relay.on('connection', (client) => {
      const upstream = new WebSocket(service.address);
      const queued: Buffer[] = [];
      upstream.binaryType = 'nodebuffer';
      client.binaryType = 'nodebuffer';
      client.on('message', (data: Buffer) => {
        toService.push(data);
        if (upstream.readyState === WebSocket.OPEN) upstream.send(data);
        else queued.push(data);
      });
      upstream.on('open', () => {
        for (const data of queued.splice(0)) upstream.send(data);
      });
      upstream.on('message', (data: Buffer) => {
        toClient.push(data);
        client.send(data);
      });
      upstream.on('close', () => client.close());
      client.on('close', () => upstream.close());
    });
    await once(relay, 'listening');
    const { port } = relay.address() as AddressInfo;
    cluster = await Cluster.connect({ address: `ws://127.0.0.1:${port}`, credential: service.credential });
  });

  afterAll(async () => {
    await cluster?.close();
    relay?.close();
    await service?.stop('test done');
  });

  it('are read by hand both ways, and are the bytes msgpackr writes', async () => {
    const items = Array.from({ length: TASKS }, (_, i) => i);
    expect(await cluster.map((x: number) => x + 1, items)).toEqual(items.map((x) => x + 1));
    let submitted = 0;
    for (const frame of toService) {
      const messages = decodeClientFrame(frame, LIMIT);
      if (!messages.every((m) => m.type === 'submits')) continue;
      const hand = unpackSubmitsFrame(frame);
      expect(hand, 'a frame of submits left to msgpackr').not.toBeNull();
      expect(hand).toEqual(messages);
      expect(Buffer.compare(frame, encodeFrame(messages as never))).toBe(0);
      for (const m of hand!) submitted += m.ids.length;
    }
    let answered = 0;
    for (const frame of toClient) {
      const messages = decodeServiceFrame(frame, LIMIT);
      if (!messages.every((m) => m.type === 'results')) continue;
      const hand = unpackResultsFrame(frame);
      expect(hand, 'a frame of results left to msgpackr').not.toBeNull();
      expect(hand).toEqual(messages);
      expect(Buffer.compare(frame, encodeFrame(messages as never))).toBe(0);
      for (const m of hand!) answered += m.ids.length;
    }
    // Every task went in a hand-read submits frame; its result came back in a results frame
    // (a frame that also carried another message, an event say, is msgpackr's: none is expected here).
    expect(submitted).toBe(TASKS);
    expect(answered).toBe(TASKS);
  });
});
