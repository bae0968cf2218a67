// The dashboard in a real browser (Debian's chromium, driven headless by playwright-core): the page
// loads without console errors, shows the agents of a local pool, a running map's counts update
// live, its Cancel button rejects the caller's promise with CANCELLED; requests without the
// session are refused. Screenshots go to test-artifacts/ (and, with UPDATE_DOCS=1, docs/).
import { existsSync, mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { CancelledError, Cluster, type DashboardAccess } from 'clustrix';

// The functions given to page.waitForFunction run in the page; this file is compiled without DOM types.
declare const document: { querySelector(selector: string): { textContent: string | null } | null };

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = new URL('../../test-artifacts/', import.meta.url);

let cluster: Cluster;
let browser: Browser;
let page: Page;
let access: DashboardAccess;
const consoleErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no browser at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  cluster = await Cluster.start({ agents: 2, slots: 2, dashboard: true, onLog: () => undefined });
  access = (await cluster.dashboard())!;
  // Root in a container has no user namespace for chromium's sandbox.
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(e.message));
  mkdirSync(ARTIFACTS, { recursive: true });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await cluster?.close();
});

class Counter {
  n = 0;
  add(k: number): number {
    return (this.n += k);
  }
}

const doneOf = (label: string) => `tr[data-call="${label}"] td.done`;

describe('the dashboard in chromium', () => {
  it('logs in with the one-time URL and shows the agents of the local pool, live', async () => {
    await page.goto(access.loginUrl);
    await page.waitForSelector('[data-testid="connection"]:text("open")');
    const ids = (await cluster.agents()).map((a) => a.id);
    for (const id of ids) await page.waitForSelector(`[data-testid="agents"] td:text-is("${id}")`);
    expect(await page.locator('[data-testid="agents"] tbody tr').count()).toBe(2);
    // The pool column: a cluster without `pools` has one, 'default'.
    expect(await page.locator('[data-testid="agents"] tbody tr td:nth-child(2)').allTextContents()).toEqual(['default', 'default']);
  });

  it("updates a running map's counts live, and its Cancel button rejects the caller's promise with CANCELLED", async () => {
    await expect(cluster.run(() => {
      throw new RangeError('bad input');
    })).rejects.toThrow(/bad input/);
    await cluster.actor(Counter, { name: 'counter' });
    const slow = (x: number): Promise<number> => {
      if (x % 50 === 0) console.log(`item ${x}`);
      return new Promise((resolve) => setTimeout(() => resolve(x), 50));
    };
    const mapping = cluster.map(slow, Array.from({ length: 2000 }, (_, i) => i), { label: 'slow-map' });
    mapping.catch(() => undefined);
    const count = async (): Promise<number> => Number(await page.textContent(doneOf('slow-map')));
    await page.waitForFunction((sel) => Number(document.querySelector(sel)?.textContent) > 0, doneOf('slow-map'));
    const first = await count();
    await page.waitForFunction(([sel, n]) => Number(document.querySelector(sel as string)?.textContent) > (n as number), [doneOf('slow-map'), first] as const);
    expect(await count()).toBeGreaterThan(first);
    await page.screenshot({ path: new URL('dashboard.png', ARTIFACTS).pathname, fullPage: true });
    if (process.env.UPDATE_DOCS === '1') await page.screenshot({ path: new URL('../../docs/dashboard.png', import.meta.url).pathname, fullPage: true });
    await page.click('tr[data-call="slow-map"] button:text("Cancel")');
    const err = await mapping.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CancelledError);
    expect((err as CancelledError).code).toBe('CANCELLED');
    await page.waitForSelector('[data-testid="notice"]:text("cancelled")');
    await page.waitForFunction(() => document.querySelector('tr[data-call="slow-map"] button') === null);
  });

  it('shows the failure with its remote stack, filters the log tail, and kills an actor from its button', async () => {
    await page.waitForSelector('[data-testid="errors"] summary:text("bad input")');
    expect(await page.textContent('[data-testid="errors"] pre')).toMatch(/RangeError: bad input/);
    await page.fill('input.filter', 'item 50');
    await page.waitForFunction(() => /item 50\b/.test(document.querySelector('[data-testid="log"]')?.textContent ?? ''));
    expect(await page.textContent('[data-testid="log"]')).not.toMatch(/item 100\b/);
    await page.click('[data-testid="actors"] button:text("Kill")');
    await page.waitForSelector('[data-testid="actors"] td:text-is("dead")');
    expect((await cluster.actors()).find((a) => a.name === 'counter')?.state).toBe('dead');
  });

  it('loaded and ran without console errors', () => {
    expect(consoleErrors).toEqual([]);
  });

  it('refuses the page, the bundle and the live socket without the session cookie', async () => {
    const fresh = await browser.newContext();
    try {
      const other = await fresh.newPage();
      const res = await other.goto(`${access.url}/`);
      expect(res?.status()).toBe(401);
      expect((await fetch(`${access.url}/app.js`)).status).toBe(401);
      const code = await new Promise<number>((resolve) => {
        const ws = new WebSocket(`${access.url.replace('http', 'ws')}/live`);
        ws.on('close', (c) => resolve(c));
        ws.on('error', () => undefined);
      });
      expect(code).toBe(4003);
    } finally {
      await fresh.close();
    }
  });
});
