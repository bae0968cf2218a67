// /metrics on the dashboard's server: Prometheus' text format, parsed here line by line; the read
// token (or a session cookie) is required. The one-time login URL, in both modes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, type DashboardAccess } from 'clustrix';
import { ClusterService } from '../../dist/coordinator/service/index.js';
import { createLogger } from '../../dist/coordinator/util/logger.js';

let embedded: Cluster;
let service: ClusterService;
let connected: Cluster;

beforeAll(async () => {
  embedded = await Cluster.start({ agents: 1, slots: 2, dashboard: true });
  service = await ClusterService.start({ profile: 'metrics', cluster: { agents: 1, slots: 1 }, writeStateFile: false, log: createLogger('error') });
  connected = await Cluster.connect({ address: service.address, credential: service.credential });
}, 60_000);

afterAll(async () => {
  await connected?.close();
  await service?.stop('test over');
  await embedded?.close();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A strict reader of the text format: every line a HELP, a TYPE, or a sample of a declared family. */
function parse(text: string): { samples: Sample[]; types: Map<string, string> } {
  expect(text.endsWith('\n')).toBe(true);
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$/.exec(line);
    if (m) continue;
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$/.exec(line);
    if (m) {
      expect(types.has(m[1]!), `TYPE ${m[1]} twice`).toBe(false);
      types.set(m[1]!, m[2]!);
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? (\S+)$/.exec(line);
    expect(m, `not a sample line: ${line}`).not.toBeNull();
    const [, name, labelText, value] = m!;
    const family = name!.replace(/_(bucket|sum|count)$/, '');
    expect(types.has(name!) || types.get(family) === 'histogram', `${name} has no TYPE`).toBe(true);
    const labels: Record<string, string> = {};
    for (const [, k, v] of (labelText ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[k!] = v!;
    const n = value === '+Inf' ? Infinity : Number(value);
    expect(Number.isNaN(n), `value of ${line}`).toBe(false);
    samples.push({ name: name!, labels, value: n });
  }
  return { samples, types };
}

const one = (samples: Sample[], name: string, labels: Record<string, string> = {}): number => {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  expect(found, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
  return found[0]!.value;
};

describe('/metrics', () => {
  it('reports tasks by outcome, queue, agents, bytes and a latency histogram, with the read token', async () => {
    await embedded.map((x: number) => x * 2, Array.from({ length: 20 }, (_, i) => i));
    await expect(embedded.run(() => {
      throw new Error('no');
    })).rejects.toThrow();
    const access = (await embedded.dashboard())!;
    const res = await fetch(access.metricsUrl, { headers: { authorization: `Bearer ${access.metricsToken}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const { samples, types } = parse(await res.text());
    expect(types.get('clustrix_tasks_total')).toBe('counter');
    expect(types.get('clustrix_task_duration_seconds')).toBe('histogram');
    expect(one(samples, 'clustrix_tasks_total', { outcome: 'done' })).toBe(20);
    expect(one(samples, 'clustrix_tasks_total', { outcome: 'failed' })).toBe(1);
    expect(one(samples, 'clustrix_tasks_total', { outcome: 'cancelled' })).toBe(0);
    expect(one(samples, 'clustrix_tasks_queued')).toBe(0);
    expect(one(samples, 'clustrix_agents', { state: 'ready' })).toBe(1);
    expect(one(samples, 'clustrix_slots')).toBe(2);
    expect(one(samples, 'clustrix_agent_received_bytes_total')).toBeGreaterThan(0);
    expect(one(samples, 'clustrix_agent_sent_bytes_total')).toBeGreaterThan(0);
    const buckets = samples.filter((s) => s.name === 'clustrix_task_duration_seconds_bucket');
    expect(buckets.at(-1)!.labels.le).toBe('+Inf');
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
    expect(buckets.at(-1)!.value).toBe(21);
    expect(one(samples, 'clustrix_task_duration_seconds_count')).toBe(21);
    expect(one(samples, 'clustrix_task_duration_seconds_sum')).toBeGreaterThan(0);
  });

  it('refuses a scrape without a credential or with a wrong token (401)', async () => {
    const access = (await embedded.dashboard())!;
    expect((await fetch(access.metricsUrl)).status).toBe(401);
    expect((await fetch(access.metricsUrl, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
  });
});

describe.each([
  ['embedded', () => embedded],
  ['connected', () => connected],
])('cluster.dashboard() (%s)', (_mode, get) => {
  it('gives a login URL on 127.0.0.1 that works once and sets an HttpOnly cookie', async () => {
    const access: DashboardAccess = (await get().dashboard())!;
    expect(access.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(access.url + '/')).status).toBe(401);
    const first = await fetch(access.loginUrl, { redirect: 'manual' });
    expect(first.status).toBe(303);
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    expect((await fetch(access.loginUrl, { redirect: 'manual' })).status).toBe(401);
    const session = cookie.split(';')[0]!;
    expect((await fetch(access.metricsUrl, { headers: { cookie: session } })).status).toBe(200);
    expect((await fetch(access.metricsUrl, { headers: { cookie: 'clustrix_dashboard=forged' } })).status).toBe(401);
  });
});

describe('without the option', () => {
  it('Cluster.start() has no dashboard: dashboard() is null', async () => {
    const c = await Cluster.start({ agents: 1, slots: 1 });
    try {
      expect(await c.dashboard()).toBeNull();
    } finally {
      await c.close();
    }
  });
});

describe('hostile requests', () => {
  it('answers request targets no URL parser accepts with 400, and keeps serving', async () => {
    const { connect } = await import('node:net');
    const access = (await embedded.dashboard())!;
    const port = Number(new URL(access.url).port);
    for (const target of ['//', '//x:99999', '/\u0000', '*']) {
      const reply = await new Promise<string>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`));
        let text = '';
        socket.on('data', (d: Buffer) => (text += d.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', () => resolve(text));
      });
      expect(reply, target).toMatch(/^HTTP\/1\.1 (400|404|401)/);
    }
    expect((await fetch(access.metricsUrl, { headers: { authorization: `Bearer ${access.metricsToken}` } })).status).toBe(200);
  });
});
