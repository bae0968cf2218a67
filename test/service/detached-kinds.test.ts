// Detached streams and calls: started by a real client process that then exits (closing its
// client, or not), they run on in the service; another client collects them by id: a stream's
// results as `{ index, value }` in completion order, live while it runs and again from disk once
// it ended, a call's single value. `clustrix tasks` lists both with their kind.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, type DetachedRow, type StreamResult } from 'clustrix';
import { ClusterService } from '../../dist/coordinator/service/index.js';
import { createLogger } from '../../dist/coordinator/util/logger.js';
import { waitUntil } from '../helpers/processes.js';
import { cli, FIXTURES, isolatedEnv, node } from './cli-helpers.js';

const env = isolatedEnv();
let service: ClusterService;
let collector: Cluster;
const started: Record<'stream' | 'call', string> = { stream: '', call: '' };

beforeAll(async () => {
  service = await ClusterService.start({ profile: 'detached-kinds', cluster: { agents: 1, slots: 2 }, env, log: createLogger('error') });
  collector = await Cluster.connect({ env, name: 'collector' });
}, 60_000);

afterAll(async () => {
  await collector?.close();
  await service?.stop('test over');
});

/** Runs the fixture client to its exit; the id of the call it detached. */
async function detachFrom(kind: 'stream' | 'call', gates: string): Promise<string> {
  const client = node(`${FIXTURES}detach-kinds.mjs`, [kind, gates], env);
  expect(await client.exit, client.output()).toBe(0);
  const m = new RegExp(`DETACHED ${kind} (d\\S+)`).exec(client.output());
  expect(m, client.output()).not.toBeNull();
  await waitUntil(() => service.status().clients.every((c) => !c.name.startsWith('detaching')), { timeoutMs: 10_000, what: 'the detaching client to leave' });
  return m![1]!;
}

async function rowOf(id: string): Promise<DetachedRow | undefined> {
  return (await collector.detachedCalls()).find((r) => r.id === id);
}

describe('a detached stream', () => {
  it('runs on after its client closed and exited; a collector gets { index, value } live, in completion order', async () => {
    const gates = mkdtempSync(join(tmpdir(), 'clustrix-gates-'));
    const id = (started.stream = await detachFrom('stream', gates));
    // Nothing can have finished: every task waits for a gate.
    expect(await rowOf(id)).toMatchObject({ kind: 'stream', label: 'detached-stream', state: 'running', tasks: 16, settled: 0 });
    expect((await rowOf(id))!.client).toContain('detaching stream');

    const results = collector.collectStream<number>(id);
    const live: StreamResult<number>[] = [];
    writeFileSync(join(gates, 'a'), '');
    // Items 0-9 may finish, 10-15 wait for the second gate: these ten came while the call ran.
    for (let i = 0; i < 10; i++) {
      const step = await results.next();
      expect(step.done).toBe(false);
      live.push(step.value as StreamResult<number>);
    }
    expect(await rowOf(id)).toMatchObject({ state: 'running', settled: 10 });
    writeFileSync(join(gates, 'b'), '');
    for await (const r of results) live.push(r);

    expect(live.map((r) => r.index).sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i));
    for (const r of live) expect(r.value).toBe(r.index * r.index);
    // Unequal run times on two slots: item 3 (90 ms) finishes after 4 and 5 (0 and 30 ms).
    expect(live.map((r) => r.index)).not.toEqual(Array.from({ length: 16 }, (_, i) => i));
    expect(live.slice(0, 10).every((r) => r.index < 10)).toBe(true);
    expect(await rowOf(id)).toMatchObject({ state: 'done', settled: 16 });

    // Once it ended, the same order again from the service's disk, and collect() in input order.
    const again: number[] = [];
    for await (const r of collector.collectStream<number>(id)) again.push(r.index);
    expect(again).toEqual(live.map((r) => r.index));
    expect(await collector.collect<number[]>(id)).toEqual(Array.from({ length: 16 }, (_, i) => i * i));
  });
});

describe('a detached call', () => {
  it('runs on after its client exited without closing; a collector gets its single value', async () => {
    const gates = mkdtempSync(join(tmpdir(), 'clustrix-gates-'));
    const id = (started.call = await detachFrom('call', gates));
    expect(await rowOf(id)).toMatchObject({ kind: 'call', label: 'addWhenOpen', state: 'running', tasks: 1, settled: 0 });
    const value = collector.collect<{ sum: number; pid: number }>(id);
    writeFileSync(join(gates, 'a'), '');
    const got = await value;
    expect(got.sum).toBe(5);
    expect(got.pid).not.toBe(process.pid);
    const streamed: StreamResult<unknown>[] = [];
    for await (const r of collector.collectStream(id)) streamed.push(r);
    expect(streamed).toEqual([{ index: 0, value: got }]);
  });
});

describe('clustrix tasks', () => {
  it('lists detached streams and calls with their kind', async () => {
    expect(started.stream && started.call, 'the tests above ran').toBeTruthy();
    const listed = await cli(['tasks', '--json'], env);
    expect(listed.code, listed.stderr).toBe(0);
    const [reply] = JSON.parse(listed.stdout) as { detached: DetachedRow[] }[];
    expect(reply?.detached).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ id: started.stream, kind: 'stream', state: 'done', settled: 16, tasks: 16 }),
        expect.objectContaining({ id: started.call, kind: 'call', state: 'done', settled: 1, tasks: 1 }),
      ]),
    );
    const text = await cli(['tasks'], env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/ID\s+KIND\s+FUNCTION/);
    expect(text.stdout).toMatch(new RegExp(`${started.stream}\\s+stream\\s+detached-stream`));
    expect(text.stdout).toMatch(new RegExp(`${started.call}\\s+call\\s+addWhenOpen`));
  });
});
