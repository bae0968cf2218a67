// `clustrix up local -n 2` as a real background process; clients attach as real programs.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthError, Cluster } from 'clustrix';
type ClusterClient = Cluster;
import { isAlive, waitUntil } from '../helpers/processes.js';
import { cli, FIXTURES, isolatedEnv, node } from './cli-helpers.js';
import { logged, marker } from '../helpers/task-events.js';

const env = isolatedEnv();
const stateFile = join(env.XDG_CONFIG_HOME!, 'clustrix', 'services', 'local.json');
let servicePid = 0;

interface StatusJson {
  pid: number;
  agents: { id: string; pid: number; busy: number; state: string }[];
  clients: { id: string; name: string; tasks: number }[];
}

async function status(): Promise<StatusJson> {
  const r = await cli(['status', 'local', '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  const list = JSON.parse(r.stdout) as StatusJson[];
  expect(list).toHaveLength(1);
  return list[0]!;
}

beforeAll(async () => {
  const r = await cli(['up', 'local', '-n', '2', '--json'], env);
  expect(r.code, r.stderr).toBe(0);
  servicePid = (JSON.parse(r.stdout) as { pid: number }).pid;
});

afterAll(async () => {
  if (servicePid && isAlive(servicePid)) process.kill(servicePid, 'SIGKILL');
});

describe('clustrix up / connect / status / down', () => {
  it('writes a 0600 state file and runs in the background', async () => {
    expect(statSync(stateFile).mode & 0o777).toBe(0o600);
    expect(isAlive(servicePid)).toBe(true);
    const s = await status();
    expect(s.pid).toBe(servicePid);
    expect(s.agents).toHaveLength(2);
    expect(s.agents.every((a) => a.state === 'ready')).toBe(true);
  });

  it('refuses a second up for the same profile', async () => {
    const r = await cli(['up', 'local'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('already running');
  });

  it('runs the maps of two client programs attached at once', async () => {
    const a = node(join(FIXTURES, 'client-map.mjs'), ['200', '5'], env);
    const b = node(join(FIXTURES, 'client-map.mjs'), ['150', '5'], env);
    expect(await a.exit, a.output()).toBe(0);
    expect(await b.exit, b.output()).toBe(0);
    expect(a.output()).toContain('{"n":200,"sum":39800}');
    expect(b.output()).toContain('{"n":150,"sum":22350}');
  });

  it('gives a connected client the same API: run, map, stream, broadcast, remote errors', async () => {
    const c = await Cluster.connect({ env });
    try {
      expect(await c.run((a: number, b: number) => a + b, 2, 3)).toBe(5);
      expect(await c.map((x: number) => x * x, [0, 1, 2, 3, 4], { chunkSize: 2 })).toEqual([0, 1, 4, 9, 16]);
      const seen: number[] = [];
      for await (const { index } of c.stream((x: number) => x, [1, 2, 3])) seen.push(index);
      expect(seen.sort()).toEqual([0, 1, 2]);
      const pids = await c.broadcast(() => process.pid);
      expect(new Set(pids).size).toBe(2);
      await expect(c.run(() => {
        throw new TypeError('boom');
      })).rejects.toMatchObject({ code: 'REMOTE_ERROR', remoteName: 'TypeError' });
      expect((await c.agents())).toHaveLength(2);
    } finally {
      await c.close();
    }
  });

  it('ships a module through the service', async () => {
    const c = await Cluster.connect({ env });
    try {
      const tasks = await c.module(new URL('../fixtures/code/tasks.ts', import.meta.url));
      expect(tasks.exports.length).toBeGreaterThan(0);
    } finally {
      await c.close();
    }
  });

  it("isolates clients: one client's close does not touch another's map", async () => {
    const a = await Cluster.connect({ env });
    const b = await Cluster.connect({ env });
    try {
      // Each task prints its marker when it starts, then sleeps.
      const sleepy = async ([ms, started]: [number, string]): Promise<number> => {
        console.log(started);
        await new Promise((r) => setTimeout(r, ms));
        return ms;
      };
      const [ma, mb] = [marker('a'), marker('b')];
      const aStarted = logged(a, ma);
      const bStarted = logged(b, mb);
      // a's map outlasts b's close (2 at a time, 20 x 300 ms); retries: 0, so a task of a cancelled
      // along with b's fails a's map instead of quietly running again.
      let aSettled = false;
      const slow = a.map(sleepy, Array.from({ length: 20 }, () => [300, ma] as [number, string]), { inline: true, retries: 0, concurrency: 2 });
      slow.then(() => (aSettled = true), () => (aSettled = true));
      const doomed = b.map(sleepy, Array.from({ length: 40 }, () => [3_000, mb] as [number, string]), { inline: true });
      doomed.catch(() => undefined);
      await Promise.all([aStarted, bStarted]); // both maps run on the agents
      await b.close();
      expect(aSettled, "a's map was over before b closed: nothing was tested").toBe(false);
      await expect(doomed).rejects.toMatchObject({ code: 'CLUSTER_CLOSED' });
      expect(await slow).toEqual(Array.from({ length: 20 }, () => 300));
    } finally {
      await a.close();
    }
  });

  it('cancels the tasks of a client killed with SIGKILL mid-map; the next client runs', async () => {
    const victim = node(join(FIXTURES, 'client-map.mjs'), ['1000', '3000'], env);
    await waitUntil(async () => victim.output().includes('attached'), { timeoutMs: 20_000, what: 'the client to attach' });
    await waitUntil(async () => (await status()).agents.some((a) => a.busy > 0), { timeoutMs: 10_000, intervalMs: 200, what: 'busy agents' });
    victim.child.kill('SIGKILL');
    await victim.exit;
    // Its queued tasks are dropped and running ones cancelled: the agents go idle.
    await waitUntil(async () => {
      const s = await status();
      return s.agents.every((a) => a.busy === 0) && s.clients.every((c) => !c.name.includes('client-map'));
    }, { timeoutMs: 15_000, intervalMs: 200, what: 'the killed client to be forgotten' });
    const next = node(join(FIXTURES, 'client-map.mjs'), ['30', '1'], env);
    expect(await next.exit, next.output()).toBe(0);
    expect(next.output()).toContain('{"n":30,"sum":870}');
  });

  it('refuses a wrong credential', async () => {
    const { address } = JSON.parse(readFileSync(stateFile, 'utf8')) as { address: string };
    await expect(Cluster.connect({ address, credential: 'wrong', env })).rejects.toBeInstanceOf(AuthError);
  });

  it('down stops the service, its agents, and fails pending work of clients with SERVICE_LOST', async () => {
    const before = await status();
    const c: ClusterClient = await Cluster.connect({ env });
    const pending = c.run(async () => {
      await new Promise((r) => setTimeout(r, 60_000));
    }, ...([] as []));
    pending.catch(() => undefined);
    const r = await cli(['down', 'local'], env);
    expect(r.code, r.stderr).toBe(0);
    await expect(pending).rejects.toMatchObject({ code: 'SERVICE_LOST' });
    await expect(c.run(() => 1)).rejects.toMatchObject({ code: 'SERVICE_LOST' });
    expect(isAlive(servicePid)).toBe(false);
    expect(existsSync(stateFile)).toBe(false);
    for (const a of before.agents) await waitUntil(async () => !isAlive(a.pid), { timeoutMs: 10_000, what: `agent ${a.id} to exit` });
    const again = await cli(['down', 'local'], env);
    expect(again.code).toBe(3);
    const none = await cli(['status', '--json'], env);
    expect(none.code).toBe(3);
    await c.close();
  });
});
