// A worker thread's queue: it batches results (one postMessage for many trivial tasks), but a
// result never waits long for the rest of its batch; an express run posted while it works runs
// next, before the runs it already holds. A real thread (dist/agent/worker-main.js).
import { tmpdir } from 'node:os';
import { afterEach, expect, it } from 'vitest';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../agent/start-worker.js';
import type { FromThread, RunInThread, ThreadResult, ToThread } from '../../agent/thread-messages.js';
import { packRuns, RESULTS_PER_POST, unpackResults } from '../../agent/thread-batch.js';
import { packValue } from '../../protocol/values.js';

let worker: Worker | null = null;
afterEach(async () => {
  await worker?.terminate();
  worker = null;
});

const busy = { hash: 'busy-ms', kind: 'function' as const, source: '(ms) => { const end = Date.now() + ms; while (Date.now() < end); return ms; }' };
/** Posts runs as the pool does: one packed batch. */
function post(runs: RunInThread[]): void {
  const transfer: ArrayBuffer[] = [];
  worker!.postMessage({ type: 'run', ...packRuns(runs, transfer) } satisfies ToThread, transfer);
}

/** The results a message carries (a batch, or a lone result posted as it is); null for any other message. */
function resultsOf(msg: FromThread): ThreadResult[] | null {
  if (msg.type === 'done' || msg.type === 'failed') return [msg];
  if (msg.type !== 'results') return null;
  const out: ThreadResult[] = [];
  unpackResults(msg, (r) => out.push(r));
  return out;
}

const run = (id: string, ms: number, first = false, express = false): RunInThread => ({ id, hash: busy.hash, code: first ? busy : null, export: null, args: packValue([ms]), chunk: false, deps: new Map(), express });

it('of a quick and a slow run sent in one message, the quick one is reported before the slow one ends', async () => {
  worker = startWorker({ file: new URL('../../dist/agent/worker-main.js', import.meta.url) }, { cacheDir: tmpdir() });
  const posts: { ids: string[]; at: number }[] = [];
  const both = new Promise<void>((resolve, reject) => {
    worker!.on('error', reject);
    worker!.on('message', (msg: FromThread) => {
      const results = resultsOf(msg);
      if (!results) return;
      for (const r of results) if (r.type === 'failed') reject(new Error(`${r.id}: ${r.error.message}`));
      posts.push({ ids: results.map((r) => r.id), at: performance.now() });
      if (posts.flatMap((p) => p.ids).length === 2) resolve();
    });
  });
  post([run('quick', 5, true), run('slow', 400)]);
  await both;
  expect(posts.map((p) => p.ids)).toEqual([['quick'], ['slow']]);
  expect(posts[1]!.at - posts[0]!.at).toBeGreaterThan(300);
});

it('trivial runs sent together come back in a few posts, not one each, none over RESULTS_PER_POST', async () => {
  worker = startWorker({ file: new URL('../../dist/agent/worker-main.js', import.meta.url) }, { cacheDir: tmpdir() });
  const posts: string[][] = [];
  let want = 1;
  let wake = (): void => undefined;
  worker.on('message', (msg: FromThread) => {
    const results = resultsOf(msg);
    if (results) posts.push(results.map((r) => r.id));
    if (posts.flat().length === want) wake();
  });
  const all = (): Promise<void> => new Promise((r) => (wake = r));
  // The first run compiles the function: longer than a batch waits. Then 50 trivial ones.
  let warm = all();
  post([run('warm', 0, true)]);
  await warm;
  posts.length = 0;
  const ids = Array.from({ length: 50 }, (_, i) => `t${i}`);
  want = ids.length;
  warm = all();
  post(ids.map((id) => run(id, 0)));
  await warm;
  expect(posts.flat()).toEqual(ids);
  // Two posts when nothing preempts the thread (the first half's results leave while the rest
  // run, so the pool can top the thread up in time); a loaded machine may split them a few times.
  expect(posts.length).toBeLessThan(10);
  for (const p of posts) expect(p.length).toBeLessThanOrEqual(RESULTS_PER_POST);
});

it('an express run posted while the thread works runs next, before the runs it holds', async () => {
  worker = startWorker({ file: new URL('../../dist/agent/worker-main.js', import.meta.url) }, { cacheDir: tmpdir() });
  const order: string[] = [];
  let started = (): void => undefined;
  const finished = new Promise<void>((resolve) => {
    worker!.on('message', (msg: FromThread) => {
      if (msg.type === 'log') started();
      order.push(...(resultsOf(msg) ?? []).map((r) => r.id));
      if (order.length === 4) resolve();
    });
  });
  const first = new Promise<void>((r) => (started = r));
  const log = { hash: 'log-then-busy', kind: 'function' as const, source: '(ms) => { console.log("started"); const end = Date.now() + ms; while (Date.now() < end); return ms; }' };
  post([{ ...run('slow-1', 150), hash: log.hash, code: log }, run('slow-2', 50, true), run('slow-3', 50)]);
  await first; // slow-1 is running: the thread holds slow-2 and slow-3
  post([run('express', 0, false, true)]);
  await finished;
  expect(order).toEqual(['slow-1', 'express', 'slow-2', 'slow-3']);
});

it('an idle thread starts the first run of a message; an express run in the same message goes next, as the pool counts it', async () => {
  worker = startWorker({ file: new URL('../../dist/agent/worker-main.js', import.meta.url) }, { cacheDir: tmpdir() });
  const order: string[] = [];
  const finished = new Promise<void>((resolve, reject) => {
    worker!.on('error', reject);
    worker!.on('message', (msg: FromThread) => {
      order.push(...(resultsOf(msg) ?? []).map((r) => r.id));
      if (order.length === 3) resolve();
    });
  });
  // The pool gives an idle thread its first job and tops it up in one message (express ones ahead of the rest).
  post([run('first', 20, true), run('express', 0, false, true), run('queued', 0)]);
  await finished;
  expect(order).toEqual(['first', 'express', 'queued']);
});

it('a lone run crosses flat and its result comes back as it is, value and all (a failure too)', async () => {
  worker = startWorker({ file: new URL('../../dist/agent/worker-main.js', import.meta.url) }, { cacheDir: tmpdir() });
  const got: FromThread[] = [];
  let wake = (): void => undefined;
  worker.on('message', (msg: FromThread) => {
    if (msg.type === 'log') return;
    got.push(msg);
    wake();
  });
  const next = (): Promise<void> => new Promise((r) => (wake = r));
  const inc = { hash: 'inc', kind: 'function' as const, source: '(x) => x + 1' };
  let arrived = next();
  worker.postMessage({ type: 'one', id: 'a', hash: inc.hash, code: inc, export: null, args: packValue([41]), chunk: false, express: false } satisfies ToThread);
  await arrived;
  expect(got[0]).toMatchObject({ type: 'done', id: 'a', refs: [] });
  const first = got[0]!;
  expect(first.type === 'done' && [...first.value]).toEqual([...packValue(42)]);
  arrived = next();
  worker.postMessage({ type: 'one', id: 'b', hash: 'missing', code: null, export: null, args: packValue([1]), chunk: false, express: false } satisfies ToThread);
  await arrived;
  expect(got[1]).toMatchObject({ type: 'failed', id: 'b' });
});
