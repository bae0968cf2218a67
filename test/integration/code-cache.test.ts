// The agent's code cache under the temp dir is cleaned when an agent starts (once its hello has
// left), and module bundles are written one directory per hash.
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';

type Tasks = typeof import('../fixtures/core/tasks.js');

let cacheDir: string;
let cluster: Cluster;
const saved = process.env.CLUSTRIX_CACHE_DIR;

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), 'clustrix-agent-cache-'));
  for (const [name, days] of [['month-old', 30], ['yesterday', 1]] as const) {
    mkdirSync(join(cacheDir, name));
    writeFileSync(join(cacheDir, name, 'module.mjs'), 'export {};\n');
    const when = new Date(Date.now() - days * 24 * 3600_000);
    utimesSync(join(cacheDir, name), when, when);
  }
  // Local agents inherit the coordinator's environment.
  process.env.CLUSTRIX_CACHE_DIR = cacheDir;
  cluster = await Cluster.start({ agents: 1, slots: 1 });
  // The agent prunes as soon as its hello has left, before it reads anything more: once a task has
  // made the round trip, that is done.
  await cluster.run((x: number) => x, 0);
});
afterAll(async () => {
  await cluster?.close();
  if (saved === undefined) delete process.env.CLUSTRIX_CACHE_DIR;
  else process.env.CLUSTRIX_CACHE_DIR = saved;
  await rm(cacheDir, { recursive: true, force: true });
});

describe("the agent's code cache", () => {
  it('loses entries unused for over a week when an agent starts, and keeps recent ones', () => {
    expect(existsSync(join(cacheDir, 'month-old'))).toBe(false);
    expect(existsSync(join(cacheDir, 'yesterday'))).toBe(true);
  });

  it('holds a module as <hash>/module.mjs once a task used it', async () => {
    const tasks = await cluster.module<Tasks>(new URL('../fixtures/core/tasks.ts', import.meta.url));
    expect(await cluster.run(tasks.fn('fib'), 10)).toBe(55);
    expect(readdirSync(join(cacheDir, tasks.hash))).toEqual(['module.mjs']);
  });
});
