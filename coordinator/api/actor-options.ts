import { duration, int } from '../config/options.js';

/** Options of `cluster.actor()`. */
export interface ActorOptions<A extends unknown[] = unknown[]> {
  /** Constructor arguments. @default [] */
  args?: A;
  /** Register under a name for `cluster.getActor(name)`; a second create with it is an error. */
  name?: string;
  /** Times the actor is constructed again (with `args`) after its agent is lost. @default 0 */
  maxRestarts?: number;
  /** Calls that may run at once; >1 only makes sense for async methods. @default 1 */
  maxConcurrency?: number;
  /** Place it on this agent (an id from `cluster.agents()`). @default the least-loaded agent */
  agent?: string;
  /** With `name`: return the existing actor instead of failing. @default false */
  getIfExists?: boolean;
  /** Limit on each call's run time, ms. A timed-out call kills a strictly ordered actor. */
  timeoutMs?: number;
}

/** Actor options with every default applied. */
export interface ResolvedActorOptions {
  args: unknown[];
  name: string | null;
  maxRestarts: number;
  maxConcurrency: number;
  agent: string | null;
  getIfExists: boolean;
  timeoutMs: number | null;
}

const KEYS = new Set(['args', 'name', 'maxRestarts', 'maxConcurrency', 'agent', 'getIfExists', 'timeoutMs']);

export function resolveActorOptions(options: ActorOptions | undefined): ResolvedActorOptions {
  const o = options ?? {};
  for (const key of Object.keys(o)) {
    if (!KEYS.has(key)) throw new TypeError(`Unknown actor option '${key}' (known: ${[...KEYS].join(', ')})`);
  }
  if (o.args !== undefined && !Array.isArray(o.args)) throw new TypeError('options.args must be an array of constructor arguments');
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0)) throw new TypeError('options.name must be a non-empty string');
  if (o.agent !== undefined && (typeof o.agent !== 'string' || o.agent.length === 0)) throw new TypeError('options.agent must be an agent id');
  if (o.getIfExists !== undefined && typeof o.getIfExists !== 'boolean') throw new TypeError('options.getIfExists must be a boolean');
  return {
    args: o.args ?? [],
    name: o.name ?? null,
    maxRestarts: int(o.maxRestarts, 'maxRestarts', 0, 0),
    maxConcurrency: int(o.maxConcurrency, 'maxConcurrency', 1, 1),
    agent: o.agent ?? null,
    getIfExists: o.getIfExists ?? false,
    timeoutMs: o.timeoutMs === undefined ? null : duration(o.timeoutMs, 'timeoutMs', 1, 0),
  };
}
