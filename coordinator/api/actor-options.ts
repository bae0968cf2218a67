import { z } from 'zod';
import { parseOptions } from '../config/parse-options.js';
import { poolNameSchema } from '../config/options-schema.js';
import { flag, mapping, ms, nonEmpty, nonNegativeInt, positiveInt, type Differences, type None } from '../config/schema-kit.js';
import type { RefArgs } from './object-refs.js';

/** Options of `cluster.actor()`. */
export interface ActorOptions<A extends unknown[] = unknown[]> {
  /** Constructor arguments; refs among them are resolved on the actor's agent (at each restart too). @default [] */
  args?: RefArgs<A>;
  /** Register under a name for `cluster.getActor(name)`; a second create with it is an error. */
  name?: string;
  /** Times the actor is constructed again (with `args`) after its agent is lost. @default 0 */
  maxRestarts?: number;
  /** Calls that may run at once; >1 only makes sense for async methods. @default 1 */
  maxConcurrency?: number;
  /** Place it on this agent (an id from `cluster.agents()`). @default the least-loaded agent */
  agent?: string;
  /** Place it on an agent of this pool (a key of `pools`). @default any pool */
  pool?: string;
  /** With `name`: return the existing actor instead of failing. @default false */
  getIfExists?: boolean;
  /** Limit on each call's run time, ms. A timed-out call kills a strictly ordered actor. */
  timeoutMs?: number;
  /**
   * What the actor holds of its agent while it lives. `cpus`: worker slots kept from tasks (its
   * calls run on a thread of its own either way). @default {} (holds no slot, like Ray's actors)
   */
  resources?: { cpus?: number };
  /**
   * Save the actor's state every `everyCalls` calls and/or every `everyMs` ms that saw calls
   * (whichever comes first; its `checkpoint()` result, or else its own enumerable fields) on the
   * coordinator; a restart after a loss resumes from the last one (`restore(state)`, or else the
   * fields assigned) instead of from the constructor. @default none
   */
  checkpoint?: { everyCalls?: number; everyMs?: number };
}

/** Actor options with every default applied. */
export interface ResolvedActorOptions {
  args: unknown[];
  name: string | null;
  maxRestarts: number;
  maxConcurrency: number;
  agent: string | null;
  pool: string | null;
  getIfExists: boolean;
  timeoutMs: number | null;
  checkpointEvery: number | null;
  checkpointMs: number | null;
  resources: { cpus?: number };
}

const CHECKPOINT_TEXT = 'a mapping { everyCalls?: n, everyMs?: ms } with at least one of them';

const actorOptionsSchema = z.strictObject(
  {
    args: z.array(z.unknown(), { error: 'a list of constructor arguments' }).optional(),
    name: nonEmpty().optional(),
    maxRestarts: nonNegativeInt().optional(),
    maxConcurrency: positiveInt().optional(),
    agent: nonEmpty('an agent id').optional(),
    pool: poolNameSchema.optional(),
    getIfExists: flag().optional(),
    timeoutMs: ms(1).optional(),
    resources: z.strictObject({ cpus: nonNegativeInt().optional() }, mapping('actor resources (cpus)')).optional(),
    checkpoint: z
      .strictObject({ everyCalls: positiveInt().optional(), everyMs: ms(10).optional() }, mapping(CHECKPOINT_TEXT))
      .refine((c) => c.everyCalls !== undefined || c.everyMs !== undefined, { error: CHECKPOINT_TEXT })
      .optional(),
  },
  mapping('actor options (args, name, maxRestarts, maxConcurrency, agent, pool, getIfExists, timeoutMs, resources, checkpoint)'),
);
type _ActorOptionsMirrored = None<Differences<ActorOptions, z.input<typeof actorOptionsSchema>>>;

/** Checks actor options (a ConfigError naming `options.<key>`) and applies the defaults. */
export function resolveActorOptions(options: ActorOptions | undefined): ResolvedActorOptions {
  const o = parseOptions(actorOptionsSchema, options ?? {});
  return {
    args: o.args ?? [],
    name: o.name ?? null,
    maxRestarts: o.maxRestarts ?? 0,
    maxConcurrency: o.maxConcurrency ?? 1,
    agent: o.agent ?? null,
    pool: o.pool ?? null,
    getIfExists: o.getIfExists ?? false,
    timeoutMs: o.timeoutMs ?? null,
    checkpointEvery: o.checkpoint?.everyCalls ?? null,
    checkpointMs: o.checkpoint?.everyMs ?? null,
    resources: o.resources ?? {},
  };
}
