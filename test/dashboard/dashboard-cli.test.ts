// `clustrix dashboard [profile] --json`: a service's one-time login URL (spent at first use) and
// its metrics address and read token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterService } from '../../dist/coordinator/service/index.js';
import { createLogger } from '../../dist/coordinator/util/logger.js';
import { cli, isolatedEnv } from '../service/cli-helpers.js';

const env = isolatedEnv();
let service: ClusterService;

beforeAll(async () => {
  service = await ClusterService.start({ profile: 'dash', cluster: { agents: 1, slots: 1 }, env, log: createLogger('error') });
}, 60_000);

afterAll(async () => {
  await service?.stop('test over');
});

describe('clustrix dashboard', () => {
  it('prints a login URL on 127.0.0.1 that works once', async () => {
    const r = await cli(['dashboard', 'dash'], env);
    expect(r.code, r.stderr).toBe(0);
    const url = r.stdout.trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/login\?token=[\w-]+$/);
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(303);
    expect((await fetch(url, { redirect: 'manual' })).status).toBe(401);
  });

  it('--json gives the metrics address and its read token', async () => {
    const r = await cli(['dashboard', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const access = JSON.parse(r.stdout) as { metricsUrl: string; metricsToken: string };
    const res = await fetch(access.metricsUrl, { headers: { authorization: `Bearer ${access.metricsToken}` } });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^clustrix_agents\{state="ready"\} 1$/m);
  });

  it('exits 3 when no service runs for the profile', async () => {
    expect((await cli(['dashboard', 'none'], env)).code).toBe(3);
  });
});
