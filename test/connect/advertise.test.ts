// detectAdvertiseHost: the local address this machine uses toward a target (connect: 'direct').
// No packet is sent: a connected UDP socket only asks the kernel for the route.
import os from 'node:os';
import { describe, expect, test } from 'vitest';
import { detectAdvertiseHost } from '../../coordinator/backends/connect/index.js';
import { LOGIN_ADDR, netnsPresent } from './netns.js';

const localAddresses = new Set(
  Object.values(os.networkInterfaces())
    .flat()
    .filter((i) => i !== undefined)
    .map((i) => i!.address),
);

describe('detectAdvertiseHost', () => {
  test('a loopback target gets 127.0.0.1', async () => {
    expect(await detectAdvertiseHost('127.0.0.1')).toBe('127.0.0.1');
    expect(await detectAdvertiseHost('localhost', 2222)).toBe('127.0.0.1');
    expect(await detectAdvertiseHost('127.0.1.1')).toBe('127.0.0.1');
  });

  test('a routed target gets one of this machine\'s own addresses (or the host name without a route)', async () => {
    const got = await detectAdvertiseHost('198.51.100.7', 22);
    expect(localAddresses.has(got) || got === os.hostname()).toBe(true);
    expect(got).not.toBe('0.0.0.0');
  });

  test('a name that does not resolve falls back to os.hostname()', async () => {
    expect(await detectAdvertiseHost('no-such-host.invalid')).toBe(os.hostname());
  });

  const nsIt = process.env.CLUSTRIX_TEST_CLUSTER || netnsPresent() ? test : test.skip;
  nsIt('toward the namespace\'s compute node, the login node address of the veth pair', async () => {
    if (!netnsPresent()) throw new Error('network namespace clx-compute is missing: run `sudo bash test/infra/up.sh netns`');
    expect(await detectAdvertiseHost('10.201.0.2', 22)).toBe(LOGIN_ADDR);
  });
});
