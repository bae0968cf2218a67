import type { Collected } from '../../protocol/core-methods.js';
import { parseOptions } from '../config/parse-options.js';
import { ConfigError } from '../errors/errors.js';
import type { Transport } from '../transport/transport.js';
import { itemsSchema, mapOptionsSchema, type MapOptions } from './fan-out.js';
import { codeOf } from './runnable.js';
import { taskDefaults } from './task-options.js';
import type { Values } from './values.js';

/** A map running in a service on its own: collect its results by `id` from any client. */
export interface DetachedCall {
  id: string;
}

/**
 * `map(fn, items, { detach: true })`: reads every item now, packs one task per chunk and hands the
 * whole call to the service, which runs it under its own scope (it outlives this client) and keeps
 * the results on disk for `collect(id)`.
 */
export async function detachMap(transport: Transport, values: Values, fn: unknown, items: unknown, options: MapOptions, defaults: { retries: number }): Promise<DetachedCall> {
  const o = parseOptions(mapOptionsSchema, options);
  if (transport.info.mode !== 'connected') {
    throw new ConfigError('options.detach: a detached map runs in a service, and this cluster runs in this program (it would end with it)', {
      hint: 'start a service (`clustrix up <profile>`) and use Cluster.connect()',
    });
  }
  if (o.signal || o.progress || o.onProgress) throw new ConfigError('options.detach: a detached map has no signal or progress here (it outlives this program)');
  const input = parseOptions(itemsSchema, items, ['items']);
  const { code, exportName } = codeOf(fn);
  const label = o.label ?? exportName ?? (typeof fn === 'function' && fn.name ? fn.name : 'map');
  const chunkSize = o.chunkSize ?? 1;
  const chunk = chunkSize > 1;
  const extra = o.args ?? [];
  const packed: Uint8Array[] = [];
  let batch: unknown[] = [];
  const flush = (): void => {
    if (batch.length === 0) return;
    const args = values.packArgs(chunk ? batch.map((item) => [item, ...extra]) : [batch[0], ...extra], `item ${packed.length * chunkSize} of detached map ${label}`);
    if (args.refs.length > 0) {
      throw new ConfigError(`options.detach: the items and args of detached map ${label} hold refs, which live only as long as this program`, {
        hint: 'await the refs and pass their values, or map without detach',
      });
    }
    packed.push(args.bytes);
    batch = [];
  };
  for await (const item of input) {
    batch.push(item);
    if (batch.length >= chunkSize) flush();
  }
  flush();
  const t = taskDefaults(o, defaults);
  transport.ship(code);
  const id = await transport.call('detach', { code: code.hash, export: exportName, inline: t.inline, chunk, timeoutMs: t.timeoutMs, retries: t.retries, retryExceptions: t.retryExceptions, label, items: packed });
  return { id };
}

/** The results of a detached map in input order, once it has finished. */
export function collectedValues(collected: Collected, values: Values, id: string): unknown[] {
  const out: unknown[] = [];
  for (const bytes of collected.results) {
    const value = values.unpack(bytes, `a result of detached call ${id}`);
    if (collected.chunked) out.push(...(value as unknown[]));
    else out.push(value);
  }
  return out;
}
