// Findings 10.8 and 10.9: describing what a task threw must never throw (an object whose
// `message` getter throws killed an agent running it inline), and an error's cause chain is cut
// when packed (a 2,000-deep chain overflowed the stack in decode and dropped the agent).
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Cluster, RemoteError } from 'clustrix';
import { pack } from 'msgpackr';
import { CloseCode, PROTOCOL_VERSION } from 'clustrix/protocol';
import { coordinatorUrl } from '../helpers/processes.js';
import { MODES, useCluster } from '../helpers/modes.js';

describe.each(MODES)('$name', (mode) => {
  const TOKEN = 'thrown-values-test-token-0123456789';
  let cluster!: Cluster;
  useCluster(mode, { agents: 1, slots: 1, token: TOKEN, retries: 0 }, (c) => (cluster = c));

  function throwHostileMessage(): never {
    throw Object.defineProperty({}, 'message', {
      enumerable: true,
      get() {
        throw new Error('the getter throws');
      },
    });
  }

  function throwProxy(): never {
    const trap = () => {
      throw new Error('every trap throws');
    };
    throw new Proxy({}, { get: trap, has: trap, getPrototypeOf: trap, ownKeys: trap, getOwnPropertyDescriptor: trap });
  }

  function throwDeepChain(): never {
    let err = new Error('level 2000');
    for (let i = 1999; i > 0; i--) err = new Error(`level ${i}`, { cause: err });
    throw err;
  }

  function causes(err: unknown): unknown[] {
    const out: unknown[] = [];
    for (let at = (err as { cause?: unknown }).cause; at !== undefined; at = (at as { cause?: unknown }).cause) out.push(at);
    return out;
  }

  describe.each([
    ['in a worker thread', false],
    ['inline', true],
  ])('a task that throws, %s,', (_, inline) => {
    it.each([
      ['an object whose message getter throws', throwHostileMessage],
      ['a Proxy whose every trap throws', throwProxy],
    ])('%s fails with a RemoteError, and its agent lives on', async (_name, fn) => {
      const pid = (await cluster.agents())[0]!.pid;
      const err = await cluster.remote(fn, { inline })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect(await cluster.run(() => process.pid)).toBe(pid);
    });

    it('a 2,000-deep cause chain arrives cut, saying so, and the agent lives on', async () => {
      const pid = (await cluster.agents())[0]!.pid;
      const err = await cluster.remote(throwDeepChain, { inline })().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RemoteError);
      expect((err as RemoteError).remoteMessage).toBe('level 1');
      const chain = causes(err);
      expect(chain.length).toBeLessThanOrEqual(16);
      expect((chain.at(-1) as RemoteError).remoteName).toBe('CauseChainCut');
      expect(await cluster.run(() => process.pid)).toBe(pid);
    });
  });

  it('a forged failed message with a 2,000-deep cause chain closes that connection with 4000; the coordinator carries on', async () => {
    const ws = new WebSocket(await coordinatorUrl(cluster));
    ws.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const hello = { type: 'hello', protocol: PROTOCOL_VERSION, token: TOKEN, agentId: null, jobId: null, host: os.hostname(), pid: 1, cpus: 1, memoryBytes: 1, node: 'v20', slots: 1, inlineConcurrency: 1, walltimeLeftMs: null };
    ws.send(forgedFrame(hello, 2000));
    expect(await closed).toBe(CloseCode.protocolError);
    expect(await cluster.run((x: number) => x + 1, 1)).toBe(2);
  });

  /**
   * `[hello, { type: 'failed', ..., error: <depth-deep cause chain> }]` as msgpack, written by hand:
   * msgpackr's own packer recurses and would overflow this test's stack first. `cause` is the last
   * key of each map, so the chain is each level's prefix in order, then the innermost error.
   */
  function forgedFrame(hello: object, depth: number): Buffer {
    const parts: Buffer[] = [Buffer.from([0x92]), pack(hello)];
    parts.push(Buffer.from([0x84]), pack('type'), pack('failed'), pack('id'), pack('nope'), pack('kind'), pack('exception'), pack('error'));
    for (let i = 0; i < depth; i++) parts.push(Buffer.from([0x83]), pack('name'), pack('Error'), pack('message'), pack(`level ${i}`), pack('cause'));
    parts.push(pack({ name: 'Error', message: 'bottom' }));
    return Buffer.concat(parts);
  }
});
