/**
 * `connect: 'direct'`: the address agents dial when the compute nodes can reach this machine. The
 * best guess is the local address this machine itself uses to reach the login node: the kernel
 * picks it from the routing table when a UDP socket is `connect`ed, and no packet is sent for that.
 */
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import os from 'node:os';

const LOOKUP_TIMEOUT_MS = 5_000;

/**
 * The local address used to reach `targetHost` (e.g. the login node); `127.0.0.1` when the target
 * is this machine's loopback; `os.hostname()` when the route cannot be told (no route, no DNS).
 */
export async function detectAdvertiseHost(targetHost: string, targetPort = 22): Promise<string> {
  const host = targetHost.replace(/^\[(.*)\]$/, '$1');
  if (isLoopback(host)) return host === '::1' ? '::1' : '127.0.0.1';
  try {
    const family = isIP(host);
    const target = family !== 0 ? { address: host, family } : await withTimeout(lookup(host), LOOKUP_TIMEOUT_MS);
    if (isLoopback(target.address)) return target.address === '::1' ? '::1' : '127.0.0.1';
    const local = await localAddressFor(target.address, target.family === 6 ? 6 : 4, targetPort);
    if (local && local !== '0.0.0.0' && local !== '::') return local.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
  } catch {
    // no route, no DNS answer: fall through to the host name
  }
  return os.hostname();
}

function localAddressFor(address: string, family: 4 | 6, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    // connect() only fixes the peer and lets the kernel choose the route and source address.
    socket.connect(port > 0 && port <= 65_535 ? port : 22, address, () => {
      try {
        resolve(socket.address().address);
      } catch (err) {
        reject(err as Error);
      } finally {
        socket.close();
      }
    });
  });
}

function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}
