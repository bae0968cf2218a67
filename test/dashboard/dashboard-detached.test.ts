// The dashboard lists a service's detached calls of every kind (map, stream, call) with their
// state: in the live socket's snapshot (as the schema the page decodes with), and on the page in
// chromium. A screenshot goes to test-artifacts/.
import { existsSync, mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import WebSocket from 'ws';
import { CancelledError, Cluster, type DashboardAccess, type DetachedCall } from 'clustrix';
import { ClusterService } from '../../dist/coordinator/service/index.js';
import { createLogger } from '../../dist/coordinator/util/logger.js';
import { decodeFrame, encodeMessages } from '../../dist/protocol/codec.js';
import { DashboardServerMessage, type DashboardClientMessage, type Snapshot } from '../../dist/protocol/dashboard-messages.js';
import { isolatedEnv } from '../service/cli-helpers.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

let service: ClusterService;
let client: Cluster;
let access: DashboardAccess;
let detached: DetachedCall[];

beforeAll(async () => {
  service = await ClusterService.start({ profile: 'dashboard-detached', cluster: { agents: 1, slots: 2 }, env: isolatedEnv(), writeStateFile: false, log: createLogger('error') });
  client = await Cluster.connect({ address: service.address, credential: service.credential });
  access = (await client.dashboard())!;
  const square = (x: number): number => x * x;
  const addUp = (a: number, b: number): number => a + b;
  detached = [await client.map(square, [1, 2, 3], { detach: true, label: 'dash-map' }), await client.stream(square, [4, 5], { detach: true, label: 'dash-stream' }), await client.call(addUp, [1, 2], { detach: true })];
  for (const d of detached) await client.collect(d.id);
}, 60_000);

afterAll(async () => {
  await client?.close();
  await service?.stop('test over');
});

/** Logs in with a one-time URL: the session cookie. */
async function login(): Promise<string> {
  const res = await fetch((await client.dashboard())!.loginUrl, { redirect: 'manual' });
  expect(res.status).toBe(303);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

/** The live socket of a logged-in page: the next snapshot that passes `until`, and actions. */
async function openLive(): Promise<{ snapshot(until: (s: Snapshot) => boolean): Promise<Snapshot>; send(m: DashboardClientMessage): void; close(): void }> {
  const ws = new WebSocket(`${access.url.replace('http', 'ws')}/live`, { headers: { cookie: await login() } });
  let latest: Snapshot | null = null;
  const waiting = new Set<() => void>();
  // Listening before 'open': the first snapshot may come in the same read as the handshake.
  ws.on('message', (data: Buffer) => {
    for (const m of decodeFrame(new Uint8Array(data), 1 << 26, DashboardServerMessage, 'dashboard', { types: new Set(), hint: '' })) if (m.type === 'snapshot') latest = m;
    for (const w of [...waiting]) w();
  });
  await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return {
    snapshot: (until) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (latest && until(latest)) {
            waiting.delete(check);
            resolve(latest);
          }
        };
        ws.once('close', (code) => reject(new Error(`the live socket closed (${code})`)));
        waiting.add(check);
        check();
      }),
    send: (m) => ws.send(encodeMessages([m])),
    close: () => ws.close(),
  };
}

describe('the dashboard of a service', () => {
  it('pushes its detached calls of every kind in the snapshot', async () => {
    const live = await openLive();
    try {
      const snapshot = await live.snapshot((s) => s.detached.length >= 3);
      expect(snapshot.detached).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ id: detached[0]!.id, kind: 'map', label: 'dash-map', state: 'done', settled: 3, tasks: 3 }),
          expect.objectContaining({ id: detached[1]!.id, kind: 'stream', label: 'dash-stream', state: 'done', settled: 2 }),
          expect.objectContaining({ id: detached[2]!.id, kind: 'call', label: 'addUp', state: 'done', settled: 1 }),
        ]),
      );
    } finally {
      live.close();
    }
  });

  it('shows a running detached call among the calls; its Cancel fails it with CANCELLED', async () => {
    const never = await client.call(() => new Promise(() => undefined), [], { detach: true });
    const live = await openLive();
    try {
      await live.snapshot((s) => s.calls.some((c) => c.callId === never.id && c.client === 'detached calls' && c.running === 1) && s.detached.some((d) => d.id === never.id && d.state === 'running'));
      live.send({ type: 'cancel-call', id: 'a1', client: 'detached calls', callId: never.id });
      await expect(client.collect(never.id)).rejects.toBeInstanceOf(CancelledError);
      await live.snapshot((s) => s.detached.some((d) => d.id === never.id && d.state === 'failed'));
    } finally {
      live.close();
    }
  });

  it('shows them on the page', async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto((await client.dashboard())!.loginUrl);
      for (const [d, label] of [[detached[0]!, 'dash-map'], [detached[1]!, 'dash-stream'], [detached[2]!, 'addUp']] as const) {
        const row = page.locator(`[data-testid="detached"] tr[data-detached="${d.id}"]`);
        await row.waitFor();
        expect(await row.locator('td').allTextContents()).toEqual(expect.arrayContaining([d.id, d.kind, label, 'done']));
      }
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.locator('[data-testid="detached"]').screenshot({ path: new URL('dashboard-detached.png', ARTIFACTS).pathname });
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 60_000);
});
