// Finding 10.1 (end): remote backends listened on 0.0.0.0, so the agent port was reachable from
// every network this machine is on. Now the coordinator listens only where its agents dial in:
// the address it advertises to them (detected: the one this machine uses to reach the login node).
import { connect } from 'node:net';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { coordinatorUrl } from '../helpers/processes.js';
import { skipCluster, ssh } from './cluster-env.js';

/** This machine's IPv4 addresses other than loopback (the test netns adds one, 10.201.0.1). */
const otherAddresses = Object.values(os.networkInterfaces())
  .flatMap((list) => list ?? [])
  .filter((i) => i.family === 'IPv4' && !i.internal)
  .map((i) => i.address);

function reaches(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, host);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe.skipIf(skipCluster || otherAddresses.length === 0)('the agent port of a remote backend', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start({ backend: 'ssh', hosts: [ssh], agents: 1, slots: 1 });
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('listens on the advertised address only, not on every interface', async () => {
    const url = new URL(await coordinatorUrl(cluster));
    expect(url.hostname).toBe('127.0.0.1');
    const port = Number(url.port);
    expect(await reaches('127.0.0.1', port)).toBe(true);
    for (const address of otherAddresses) expect(await reaches(address, port), address).toBe(false);
    expect(await cluster.run((x: number) => x + 1, 1)).toBe(2);
  });
});
