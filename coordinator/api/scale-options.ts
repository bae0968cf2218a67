import { z } from 'zod';
import { DEFAULT_ADAPT_IDLE_MS } from '../config/options.js';
import { adaptSchema, poolNameSchema } from '../config/options-schema.js';
import { parseOptions } from '../config/parse-options.js';
import { show } from '../config/issues.js';
import { ConfigError } from '../errors/errors.js';
import { mapping, type Differences, type None } from '../config/schema-kit.js';
import type { AdaptSpec } from '../../protocol/core-methods.js';

/** Options of `cluster.scale(n, options)`. */
export interface ScaleOptions {
  /** The pool to resize (a key of `pools`). @default the only pool; required with several */
  pool?: string;
}

/** Options of `cluster.adapt()`: the pool option `adapt`, plus which pool. */
export interface AdaptOptions {
  /** The pool (a key of `pools`). @default the only pool; required with several */
  pool?: string;
  /** Fewest agents it shrinks to. */
  min: number;
  /** Most agents it grows to. */
  max: number;
  /** An agent idle this long is stopped (while above min), ms. @default 60000 */
  idleMs?: number;
}

const scaleOptionsSchema = z.strictObject({ pool: poolNameSchema.optional() }, mapping('scale options (pool)'));
type _ScaleOptionsMirrored = None<Differences<ScaleOptions, z.input<typeof scaleOptionsSchema>>>;
type _AdaptOptionsMirrored = None<Differences<Omit<AdaptOptions, 'pool'>, z.input<typeof adaptSchema>>>;

/** Checks `scale(n, options)` (a ConfigError naming what is wrong). */
export function resolveScaleOptions(n: unknown, options: ScaleOptions | undefined): ScaleOptions {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new ConfigError(`scale(n): expected a non-negative integer, got ${show(n)}`);
  return parseOptions(scaleOptionsSchema, options ?? {});
}

/** Checks adapt options and applies the default idleMs. */
export function resolveAdaptOptions(options: AdaptOptions): AdaptSpec {
  const { pool, ...bounds } = options !== null && typeof options === 'object' ? options : ({} as AdaptOptions);
  const o = parseOptions(adaptSchema, bounds);
  if (pool !== undefined) parseOptions(poolNameSchema, pool, ['options', 'pool']);
  return { pool: pool ?? null, min: o.min, max: o.max, idleMs: o.idleMs ?? DEFAULT_ADAPT_IDLE_MS };
}
