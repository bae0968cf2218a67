// Agent to agent: one agent's PeerServer hands a stored value to another's PeerClient, after the
// cluster token; a wrong token, a missing object and an unreachable peer each reject clearly.
import { afterEach, describe, expect, it } from 'vitest';
import { PeerClient } from '../../agent/objects/peer-client.js';
import { PeerServer } from '../../agent/objects/peer-server.js';

const TOKEN = 'peer-transfer-test-token-0123456789';
const MAX = 64 * 1024 * 1024;
const servers: PeerServer[] = [];
const clients: PeerClient[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
  for (const c of clients.splice(0)) c.closeAll();
});

async function serving(objects: Record<string, Uint8Array>): Promise<PeerServer> {
  const s = await PeerServer.listen('127.0.0.1', TOKEN, (id) => objects[id], MAX);
  servers.push(s);
  return s;
}

function client(token = TOKEN): PeerClient {
  const c = new PeerClient(token, MAX);
  clients.push(c);
  return c;
}

describe('peer transfer', () => {
  it('fetches a stored value, byte for byte, and reuses the connection', async () => {
    const big = new Uint8Array(20 * 1024 * 1024).map((_, i) => i % 251);
    const s = await serving({ big, small: new Uint8Array([1, 2, 3]) });
    const c = client();
    expect([...(await c.fetch(s.address, 'small'))]).toEqual([1, 2, 3]);
    const got = await c.fetch(s.address, 'big');
    expect(got.byteLength).toBe(big.byteLength);
    expect(Buffer.compare(Buffer.from(got), Buffer.from(big))).toBe(0);
  });

  it('rejects a fetch of an object the peer does not hold', async () => {
    const s = await serving({});
    await expect(client().fetch(s.address, 'nope')).rejects.toThrow(/does not hold nope/);
  });

  it('refuses a peer with a wrong token', async () => {
    const s = await serving({ a: new Uint8Array([1]) });
    await expect(client('wrong-token-wrong-token-wrong').fetch(s.address, 'a')).rejects.toThrow(/4003/);
  });

  it('rejects when the peer cannot be reached', async () => {
    const s = await serving({});
    const address = s.address;
    s.close();
    await expect(client().fetch(address, 'a')).rejects.toThrow(/closed/);
  });
});
