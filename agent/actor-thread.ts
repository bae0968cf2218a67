import { parentPort, workerData } from 'node:worker_threads';
import { unpackValue } from '../protocol/values.js';
import { packResult } from './pack-result.js';
import type { RemoteErrorInfo } from '../protocol/common.js';
import { installActorBridge, onActorReply, type ActorReplyToThread, type ActorRequestFromThread } from './actor-bridge.js';
import { toErrorInfo } from './errors-info.js';
import { CodeCache, defineTaskGlobals, type CodeSource } from './task-code.js';
import { interceptWrites, TaskOutput } from './task-output.js';
import type { ThreadResult } from './thread-messages.js';

export type ToActorThread =
  | { type: 'create'; code: CodeSource; export: string | null; args: Uint8Array; maxConcurrency: number }
  /** Calls in order; several per message, as they arrived together. */
  | { type: 'calls'; calls: { id: string; method: string; args: Uint8Array }[] }
  | ActorReplyToThread;

export type FromActorThread =
  | { type: 'ready' }
  | { type: 'create-failed'; error: RemoteErrorInfo }
  | { type: 'results'; results: ThreadResult[] }
  | { type: 'log'; id: string | null; stream: 'stdout' | 'stderr'; text: string }
  | ActorRequestFromThread;

const MAX_RESULTS_PER_POST = 64;

/**
 * Entry of an actor's own thread: constructs the instance, then serves calls from its mailbox in
 * arrival order, at most `maxConcurrency` at once (1: strictly one after another).
 */
export function runActorThread(): void {
  const port = parentPort;
  if (!port) throw new Error('runActorThread must run in a worker thread');
  const post = (msg: FromActorThread, transfer?: ArrayBuffer[]): void => port.postMessage(msg, transfer);
  const cache = new CodeCache((workerData as { cacheDir: string }).cacheDir);
  const mailbox: { id: string; method: string; args: Uint8Array }[] = [];
  let instance: Record<string, unknown> | null = null;
  let className = 'actor';
  let maxConcurrency = 1;
  let active = 0;
  let current: string | null = null;
  let results: ThreadResult[] = [];
  let transfer: ArrayBuffer[] = [];

  defineTaskGlobals();
  installActorBridge((msg) => post(msg));
  // Output as whole lines of the call running now (console.trace prints through console.error).
  const output = new TaskOutput((id, stream, text) => post({ type: 'log', id, stream, text }));
  console.log = console.info = console.debug = (...args: unknown[]) => output.console(current, 'stdout', args);
  console.error = console.warn = (...args: unknown[]) => output.console(current, 'stderr', args);
  for (const stream of ['stdout', 'stderr'] as const) {
    interceptWrites(process[stream], (chunk, encoding) => {
      output.write(current, stream, chunk, encoding);
      return true;
    });
  }

  const flush = (): void => {
    if (results.length === 0) return;
    post({ type: 'results', results }, transfer);
    results = [];
    transfer = [];
  };

  const serve = (): void => {
    while (instance && active < maxConcurrency && mailbox.length > 0) {
      const call = mailbox.shift()!;
      active++;
      void invoke(call).finally(() => {
        active--;
        if (mailbox.length === 0 || results.length >= MAX_RESULTS_PER_POST) flush();
        serve();
      });
    }
  };

  const invoke = async (call: { id: string; method: string; args: Uint8Array }): Promise<void> => {
    const started = performance.now();
    current = call.id;
    output.begin(call.id);
    try {
      const method = instance![call.method];
      if (typeof method !== 'function') {
        throw Object.assign(new TypeError(`${className} has no method '${call.method}'`), { code: 'ACTOR_NO_SUCH_METHOD' });
      }
      const args = unpackValue(call.args) as unknown[];
      const value = packResult(await (method as (...a: unknown[]) => unknown).apply(instance, args));
      output.end(call.id);
      results.push({ type: 'done', id: call.id, value, runMs: performance.now() - started });
      transfer.push(value.buffer as ArrayBuffer);
    } catch (err) {
      output.end(call.id);
      results.push({ type: 'failed', id: call.id, error: toErrorInfo(err) });
    } finally {
      current = null;
    }
  };

  port.on('message', (msg: ToActorThread) => {
    switch (msg.type) {
      case 'create':
        void create(msg);
        return;
      case 'calls':
        for (const call of msg.calls) mailbox.push(call);
        serve();
        return;
      case 'actor-reply':
        onActorReply(msg);
        return;
    }
  });

  async function create(msg: Extract<ToActorThread, { type: 'create' }>): Promise<void> {
    try {
      cache.add(msg.code);
      const Class = (await cache.resolve(msg.code.hash, msg.export)) as unknown as new (...args: unknown[]) => Record<string, unknown>;
      className = Class.name || 'actor';
      maxConcurrency = msg.maxConcurrency;
      instance = new Class(...(unpackValue(msg.args) as unknown[]));
      post({ type: 'ready' });
      serve();
    } catch (err) {
      post({ type: 'create-failed', error: toErrorInfo(err) });
    }
  }
}
