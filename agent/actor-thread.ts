import { parentPort, workerData } from 'node:worker_threads';
import { packValue, unpackValue } from '../protocol/values.js';
import { packResult } from './pack-result.js';
import type { RemoteErrorInfo } from '../protocol/common.js';
import { installActorBridge, onActorReply, type ActorReplyToThread, type ActorRequestFromThread } from './actor-bridge.js';
import { toErrorInfo } from './errors-info.js';
import { installThreadObjectReads, onObjectBytes, type ObjectBytesToThread, type ObjectReadFromThread } from './objects/object-reads.js';
import { ownDeps, resolveTopLevel, unpackArgs } from './objects/task-refs.js';
import { CodeCache, defineTaskGlobals, type CodeSource } from './task-code.js';
import { interceptWrites, TaskOutput } from './task-output.js';
import type { ThreadResult } from './thread-messages.js';

export type ToActorThread =
  | {
      type: 'create';
      /** The actor's id: what its constructor's nested refs are read under. */
      actorId: string;
      code: CodeSource;
      export: string | null;
      args: Uint8Array;
      /** Bytes of the objects its top-level ref arguments name. */
      deps: ReadonlyMap<string, Uint8Array>;
      maxConcurrency: number;
      checkpointEvery: number | null;
      checkpointMs: number | null;
      restore: { state: Uint8Array; calls: number } | null;
    }
  /** Calls in order; several per message, as they arrived together. */
  | { type: 'calls'; calls: ActorCallInThread[] }
  | ActorReplyToThread
  | ObjectBytesToThread;

/** One call as the actor's thread gets it: the bytes of the objects its arguments refer to travel along. */
export interface ActorCallInThread {
  id: string;
  method: string;
  args: Uint8Array;
  deps: ReadonlyMap<string, Uint8Array>;
}

export type FromActorThread =
  | { type: 'ready' }
  | { type: 'create-failed'; error: RemoteErrorInfo }
  | { type: 'checkpoint'; calls: number; state: Uint8Array }
  | { type: 'results'; results: ThreadResult[] }
  | { type: 'log'; id: string | null; stream: 'stdout' | 'stderr'; text: string }
  | ActorRequestFromThread
  | ObjectReadFromThread;

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
  const mailbox: ActorCallInThread[] = [];
  let instance: Record<string, unknown> | null = null;
  let className = 'actor';
  let maxConcurrency = 1;
  let active = 0;
  let current: string | null = null;
  let results: ThreadResult[] = [];
  let transfer: ArrayBuffer[] = [];
  /** Calls served, counted from the checkpoint this incarnation was restored from. */
  let served = 0;
  let checkpointEvery: number | null = null;
  let checkpointMs: number | null = null;
  /** `served` at the last checkpoint sent (or restored from): the timer skips when nothing changed. */
  let saved = 0;
  /** The timer came due while calls ran: the next call to end takes the checkpoint. */
  let timerDue = false;
  let timer: NodeJS.Timeout | null = null;

  defineTaskGlobals();
  installActorBridge((msg) => post(msg));
  installThreadObjectReads((msg) => post(msg));
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
      void invoke(call).finally(async () => {
        served++;
        if ((checkpointEvery !== null && served % checkpointEvery === 0) || timerDue) {
          flush();
          await checkpoint(served);
        }
        active--;
        if (mailbox.length === 0 || results.length >= MAX_RESULTS_PER_POST) flush();
        serve();
      });
    }
  };

  const invoke = async (call: ActorCallInThread): Promise<void> => {
    const started = performance.now();
    current = call.id;
    output.begin(call.id);
    try {
      const method = instance![call.method];
      if (typeof method !== 'function') {
        throw Object.assign(new TypeError(`${className} has no method '${call.method}'`), { code: 'ACTOR_NO_SUCH_METHOD' });
      }
      const args = resolveTopLevel(unpackArgs(call.args, call.deps, true, call.id) as unknown[]);
      const { value, refs } = packResult(await (method as (...a: unknown[]) => unknown).apply(instance, args));
      output.end(call.id);
      results.push({ type: 'done', id: call.id, value, refs, runMs: performance.now() - started });
      transfer.push(value.buffer as ArrayBuffer);
    } catch (err) {
      output.end(call.id);
      results.push({ type: 'failed', id: call.id, error: toErrorInfo(err) });
    } finally {
      current = null;
    }
  };

  /**
   * The timed checkpoint: re-armed after every checkpoint, so `everyMs` counts from the last one
   * whichever way it was taken. It waits for the calls running now rather than saving state that
   * a half-done call is changing.
   */
  const armTimer = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (checkpointMs === null) return;
    timer = setTimeout(onTimer, checkpointMs);
    timer.unref();
  };
  const onTimer = (): void => {
    timer = null;
    if (served === saved) return armTimer();
    if (active > 0) {
      timerDue = true;
      return;
    }
    // Held as a running call, so no call starts while the state is being read.
    active++;
    void checkpoint(served).finally(() => {
      active--;
      serve();
    });
  };

  /** The state, by the class's `checkpoint()` or else its own enumerable fields. */
  const checkpoint = async (calls: number): Promise<void> => {
    timerDue = false;
    saved = calls;
    armTimer();
    try {
      const own = instance!;
      const state = typeof own.checkpoint === 'function' ? await (own.checkpoint as () => unknown).call(own) : { ...own };
      const packed = packValue(state);
      post({ type: 'checkpoint', calls, state: packed }, [packed.buffer as ArrayBuffer]);
    } catch (err) {
      // The previous checkpoint stays the one a restart resumes from.
      console.error(`${className}: checkpoint after call ${calls} failed: ${(err as Error).message}`);
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
      case 'object-bytes':
        onObjectBytes(msg);
        return;
    }
  });

  async function create(msg: Extract<ToActorThread, { type: 'create' }>): Promise<void> {
    try {
      cache.add(msg.code);
      const Class = (await cache.resolve(msg.code.hash, msg.export)) as unknown as new (...args: unknown[]) => Record<string, unknown>;
      className = Class.name || 'actor';
      maxConcurrency = msg.maxConcurrency;
      ownDeps(msg.deps);
      instance = new Class(...resolveTopLevel(unpackArgs(msg.args, msg.deps, true, msg.actorId) as unknown[]));
      checkpointEvery = msg.checkpointEvery;
      checkpointMs = msg.checkpointMs;
      if (msg.restore) {
        // After the constructor: what it sets up that a checkpoint cannot carry is in place.
        const state = unpackValue(msg.restore.state);
        if (typeof instance.restore === 'function') await (instance.restore as (s: unknown) => unknown).call(instance, state);
        else Object.assign(instance, state);
        served = saved = msg.restore.calls;
      }
      armTimer();
      post({ type: 'ready' });
      serve();
    } catch (err) {
      post({ type: 'create-failed', error: toErrorInfo(err) });
    }
  }
}
