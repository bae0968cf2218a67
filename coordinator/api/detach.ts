import type { Collected } from '../../protocol/core-methods.js';
import type { DetachKind } from '../../protocol/rows.js';
import { parseOptions } from '../config/parse-options.js';
import type { ShippedCode } from '../engine/task.js';
import { ConfigError } from '../errors/errors.js';
import type { Transport } from '../transport/transport.js';
import { itemsSchema, mapOptionsSchema, withoutUndefined, type MapOptions, type StreamResult } from './fan-out.js';
import { codeOf } from './runnable.js';
import { taskDefaults, type ResolvedTaskOptions, type TaskOptions } from './task-options.js';
import type { Values } from './values.js';

/** A call running in a service on its own (`{ detach: true }`): collect its results by `id` from any client. */
export interface DetachedCall {
  id: string;
  /** What started it: `map`, `stream` or `call`; `collect(id)` answers what that call would have. */
  kind: DetachKind;
}

/** Options of `cluster.call(fn, args, options)`: the task options, and `detach`. */
export interface CallOptions extends TaskOptions {
  /**
   * Connected only: run in the service on its own, outliving this program; `call` resolves with
   * `{ id, kind: 'call' }` at once, and any client gets the value by `cluster.collect(id)`. @default false
   */
  detach?: boolean;
}

/** `call` options as the task options and the `detach` flag (checked: true or false). */
export function splitDetach(options: CallOptions | undefined): { detach: boolean; taskOptions: TaskOptions | undefined } {
  if (options === null || typeof options !== 'object' || !('detach' in options)) return { detach: false, taskOptions: options };
  const { detach, ...taskOptions } = options;
  if (detach !== undefined && typeof detach !== 'boolean') throw new ConfigError(`options.detach: expected true or false, got ${typeof detach}`);
  return { detach: detach === true, taskOptions };
}

export function assertCallId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 64) throw new ConfigError('collect(id) needs the id of a detached call (a string of at most 64 characters)');
}

/** Refuses `detach` where nothing would outlive this program: an embedded cluster. */
function assertService(transport: Transport, what: DetachKind): void {
  if (transport.info.mode !== 'connected') {
    throw new ConfigError(`options.detach: a detached ${what} runs in a service, and this cluster runs in this program (it would end with it)`, {
      hint: 'start a service (`clustrix up <profile>`) and use Cluster.connect()',
    });
  }
}

/**
 * `map` or `stream` with `{ detach: true }`: reads every item now, packs one task per chunk and
 * hands the whole call to the service, which runs it under its own scope (it outlives this
 * client) and keeps the results on disk for `collect(id)` / `collectStream(id)`.
 */
export async function detachFanOut(
  transport: Transport,
  values: Values,
  kind: 'map' | 'stream',
  fn: unknown,
  items: unknown,
  options: MapOptions,
  defaults: { retries: number; base: TaskOptions },
): Promise<DetachedCall> {
  const o = parseOptions(mapOptionsSchema, options);
  assertService(transport, kind);
  if (o.signal || o.progress || o.onProgress) throw new ConfigError(`options.detach: a detached ${kind} has no signal or progress here (it outlives this program)`);
  const input = parseOptions(itemsSchema, items, ['items']);
  const { code, exportName } = codeOf(fn);
  const label = o.label ?? exportName ?? (typeof fn === 'function' && fn.name ? fn.name : kind);
  const chunkSize = o.chunkSize ?? 1;
  const extra = o.args ?? [];
  const packed: Uint8Array[] = [];
  let batch: unknown[] = [];
  const flush = (): void => {
    if (batch.length === 0) return;
    packed.push(packRefless(values, chunkSize > 1 ? batch.map((item) => [item, ...extra]) : [batch[0], ...extra], `item ${packed.length * chunkSize} of detached ${kind} ${label}`));
    batch = [];
  };
  for await (const item of input) {
    batch.push(item);
    if (batch.length >= chunkSize) flush();
  }
  flush();
  const { signal: _signal, ...given } = o;
  return send(transport, code, exportName, kind, label, chunkSize, packed, taskDefaults({ ...defaults.base, ...withoutUndefined(given) }, defaults));
}

/** `call(fn, args, { detach: true })`: one task handed to the service, its value kept for `collect(id)`. */
export async function detachCall(transport: Transport, values: Values, fn: unknown, args: unknown[], options: ResolvedTaskOptions): Promise<DetachedCall> {
  assertService(transport, 'call');
  if (options.signal) throw new ConfigError('options.detach: a detached call has no signal here (it outlives this program)');
  const { code, exportName } = codeOf(fn);
  const label = exportName ?? (typeof fn === 'function' && fn.name ? fn.name : 'call');
  return send(transport, code, exportName, 'call', label, 1, [packRefless(values, args, `the arguments of detached call ${label}`)], options);
}

async function send(transport: Transport, code: ShippedCode, exportName: string | null, kind: DetachKind, label: string, chunkSize: number, items: Uint8Array[], t: ResolvedTaskOptions): Promise<DetachedCall> {
  transport.ship(code);
  const { inline, timeoutMs, retries, retryExceptions, priority, resources, pool } = t;
  const id = await transport.call('detach', { code: code.hash, export: exportName, kind, label, chunkSize, items, inline, timeoutMs, retries, retryExceptions, priority, resources, pool });
  return { id, kind };
}

/** Packs arguments that must not hold refs: a ref lives only as long as the program that made it. */
function packRefless(values: Values, args: unknown[], what: string): Uint8Array {
  const packed = values.packArgs(args, what);
  if (packed.refs.length > 0) {
    throw new ConfigError(`options.detach: ${what} holds refs, which live only as long as this program`, {
      hint: 'await the refs and pass their values, or call without detach',
    });
  }
  return packed.bytes;
}

/** What the detached call would have answered: a map's or stream's results in input order, a call's value. */
export function collectedValue(collected: Collected, values: Values, id: string): unknown {
  const what = `a result of detached call ${id}`;
  if (collected.kind === 'call') return values.unpack(collected.results[0]!, what);
  const out: unknown[] = [];
  for (const bytes of collected.results) {
    const value = values.unpack(bytes, what);
    if (collected.chunkSize > 1) out.push(...(value as unknown[]));
    else out.push(value);
  }
  return out;
}

/**
 * The results of a detached call as they settle, `{ index, value }` in completion order: live
 * while it runs, read back from the service's disk once it has ended. Its failure is thrown after
 * the results that came before it.
 */
export async function* collectStream<R>(transport: Transport, values: Values, id: string): AsyncGenerator<StreamResult<R>> {
  const what = `a result of detached call ${id}`;
  for (let from = 0; ; ) {
    const part = await transport.call('collectNext', id, from);
    for (const { task, result } of part.settled) {
      const value = values.unpack(result, what);
      if (part.chunkSize > 1) {
        const chunk = value as R[];
        for (let j = 0; j < chunk.length; j++) yield { index: task * part.chunkSize + j, value: chunk[j] as R };
      } else {
        yield { index: task, value: value as R };
      }
    }
    from += part.settled.length;
    if (part.done) return;
  }
}
