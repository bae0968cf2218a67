import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
import { coordinatorUrl } from '../helpers/processes.js';

const agentBundle = fileURLToPath(new URL('../../dist/bundle/agent.cjs', import.meta.url));

const TOKEN = 'tls-test-token-0123456789abcdef';

describe('wss with a pinned self-signed certificate', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start({ agents: 1, slots: 1, tls: true, token: TOKEN });
  });
  afterAll(() => cluster.close());

  it('agents connect over wss:// and run tasks', async () => {
    expect(await coordinatorUrl(cluster)).toMatch(/^wss:\/\//);
    expect(await cluster.run((x: number) => x + 1, 41)).toBe(42);
  });

  it('an agent pinning another fingerprint refuses the coordinator before sending its token', async () => {
    const child = spawn(process.execPath, [agentBundle], {
      env: {
        PATH: process.env.PATH,
        CLUSTRIX_URL: await coordinatorUrl(cluster),
        CLUSTRIX_TOKEN: TOKEN,
        CLUSTRIX_CERT_FINGERPRINT: 'AA:'.repeat(31) + 'AA',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('does not match the pinned CLUSTRIX_CERT_FINGERPRINT');
    expect((await cluster.agents())).toHaveLength(1);
  });
});
