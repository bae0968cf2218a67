import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_GLOBALS, bundleModule, captureClass, captureFunction, findCapturedVariables, installWorkerGlobals } from '../../coordinator/code/index.js';
import type { CapturedFunction, ShippableClass, ShippableFunction } from '../../coordinator/code/index.js';

const fixture = (name: string): string => new URL(`../fixtures/code/${name}`, import.meta.url).pathname;

describe('installWorkerGlobals', () => {
  it('defines exactly WORKER_GLOBALS, which the closure check accepts', () => {
    const target = {};
    installWorkerGlobals(target, import.meta.url);
    expect(Object.getOwnPropertyNames(target).sort()).toEqual([...WORKER_GLOBALS].sort());
    expect(findCapturedVariables(`() => [${WORKER_GLOBALS.join(', ')}]`)).toEqual([]);
  });

  it('gives a working require and an esbuild-compatible __name', () => {
    const target: { require?: NodeJS.Require; __name?: <T>(fn: T, name: string) => T } = {};
    installWorkerGlobals(target, import.meta.url);
    expect((target.require?.('node:path') as typeof import('node:path')).sep).toBe('/');
    const fn = (): number => 1;
    expect(target.__name?.(fn, 'renamed')).toBe(fn);
    expect(fn.name).toBe('renamed');
  });
});

/**
 * The whole path for code compiled like tsx compiles it (esbuild, keepNames): capture here, then
 * evaluate in a real ESM worker thread set up the way the agent sets one up.
 */
describe('esbuild keepNames output in an agent-like worker', () => {
  let dir: string;
  let compiled: { withNestedNames: ShippableFunction; usesRequire: ShippableFunction; Counter: ShippableClass };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'clustrix-keepnames-'));
    const out = await build({ entryPoints: [fixture('keep-names.ts')], keepNames: true, format: 'esm', platform: 'node', target: 'node20', write: false, logLevel: 'error' });
    await writeFile(join(dir, 'compiled.mjs'), out.outputFiles[0]?.text ?? '');
    compiled = (await import(/* @vite-ignore */ pathToFileURL(join(dir, 'compiled.mjs')).href)) as typeof compiled;

    // The worker imports worker-globals exactly as shipped code would see it: bundled.
    const globals = await bundleModule(new URL('../../coordinator/code/worker-globals.ts', import.meta.url));
    await writeFile(join(dir, 'worker-globals.mjs'), globals.source);
    await writeFile(
      join(dir, 'worker.mjs'),
      `import { parentPort, workerData } from 'node:worker_threads';
       import { installWorkerGlobals } from './worker-globals.mjs';
       if (workerData.install) installWorkerGlobals(globalThis, import.meta.url);
       parentPort.on('message', ({ source, construct, method, args }) => {
         try {
           const value = (0, eval)('(' + source + ')');
           const result = construct ? new value()[method](...args) : value(...args);
           parentPort.postMessage({ ok: true, result, name: value.name });
         } catch (error) {
           parentPort.postMessage({ ok: false, error: String(error) });
         }
       });`,
    );
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function runInWorker(install: boolean, message: { source: string; construct?: boolean; method?: string; args: unknown[] }): Promise<{ ok: boolean; result?: unknown; error?: string }> {
    const worker = new Worker(join(dir, 'worker.mjs'), { workerData: { install } });
    try {
      return await new Promise((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
        worker.postMessage(message);
      });
    } finally {
      await worker.terminate();
    }
  }

  it('the compiled functions really call __name, and capturing them is allowed', () => {
    const captured: CapturedFunction = captureFunction(compiled.withNestedNames);
    expect(captured.source).toContain('__name(');
    expect(captureClass(compiled.Counter).source).toContain('__name(');
  });

  it('they run in a worker with the globals installed', async () => {
    await expect(runInWorker(true, { source: captureFunction(compiled.withNestedNames).source, args: [5] })).resolves.toMatchObject({ ok: true, result: 11 });
    await expect(runInWorker(true, { source: captureFunction(compiled.usesRequire).source, args: [] })).resolves.toMatchObject({ ok: true, result: '/' });
    await expect(
      runInWorker(true, { source: captureClass(compiled.Counter).source, construct: true, method: 'add', args: [4] }),
    ).resolves.toMatchObject({ ok: true, result: 4 });
  });

  it('and fail without them, which is why the agent must install them', async () => {
    const outcome = await runInWorker(false, { source: captureFunction(compiled.withNestedNames).source, args: [5] });
    expect(outcome).toMatchObject({ ok: false, error: 'ReferenceError: __name is not defined' });
  });
});
