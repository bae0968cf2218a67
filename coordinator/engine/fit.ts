/** Where a task that asked for resources fits: one agent's free amounts, and the most any agent has. */
import type { Resources } from '../../protocol/resources.js';
import { ResourcesUnsatisfiableError } from '../errors/errors.js';
import type { AgentLink } from './link.js';

/** A task's resources with its default of one cpu (slot). */
export function withCpus(asked: Resources): Resources {
  return asked.cpus === undefined ? { ...asked, cpus: 1 } : asked;
}

/** Whether `asked` fits what `link` has free now (cpus: slots not held by actors or reserved). */
export function fits(link: AgentLink, asked: Resources): boolean {
  for (const [name, amount] of Object.entries(asked)) {
    const has = name === 'cpus' ? link.slots - link.actorSlots : (link.resources[name] ?? 0);
    if (has - (link.reserved[name] ?? 0) < amount) return false;
  }
  return true;
}

export function largestOf(links: Iterable<AgentLink>): Resources {
  const out: Resources = {};
  for (const link of links) for (const [name, amount] of Object.entries(link.resources)) out[name] = Math.max(out[name] ?? 0, amount);
  return out;
}

/** What placement knows of one pool: its connected agents' largest amounts, and whether it may get agents it lacks. */
export interface PoolShape {
  name: string;
  agents: number;
  /** The most of each resource one of its agents has; null: none connected. */
  largest: Resources | null;
  /** It may get agents it does not have yet (launched, being replaced, or adaptive below max). */
  growable: boolean;
}

/** Whether `asked` is at most `largest` in every amount. */
export function fitsAmounts(asked: Resources, largest: Resources): boolean {
  for (const [name, amount] of Object.entries(asked)) if (amount > (largest[name] ?? 0)) return false;
  return true;
}

/**
 * The error for work no pool considered can run: none of its agents has that much, and no pool
 * without agents could get some (an empty pool's agents-to-be are not known, so one that may grow
 * is given the benefit of the doubt). null when some pool could run it. `asked` includes cpus.
 */
export function placementError(asked: Resources, pools: readonly PoolShape[]): ResourcesUnsatisfiableError | null {
  if (pools.length === 0) return null;
  for (const pool of pools) {
    if (pool.largest ? fitsAmounts(asked, pool.largest) : pool.growable) return null;
  }
  const largest: Resources = {};
  for (const pool of pools) for (const [name, amount] of Object.entries(pool.largest ?? {})) largest[name] = Math.max(largest[name] ?? 0, amount);
  const missing: Record<string, { asked: number; largest: number }> = {};
  for (const [name, amount] of Object.entries(asked)) {
    const most = largest[name] ?? 0;
    if (amount > most) missing[name] = { asked: amount, largest: most };
  }
  const names = Object.keys(missing);
  const words = names.map((n) => `${n}: asks ${missing[n]!.asked}, the most any agent has is ${missing[n]!.largest}`).join('; ');
  const considered = pools.map((p) => `${p.name} (${p.agents} agent${p.agents === 1 ? '' : 's'}${p.agents === 0 ? ', cannot grow' : ''})`).join(', ');
  const hasAgents = pools.some((p) => p.agents > 0);
  const headline = hasAgents ? `no agent has the resources this task asks for (${words})` : 'no agent can run this task';
  return new ResourcesUnsatisfiableError(`${headline}; pools considered: ${considered}`, missing, hasAgents ? undefined : {
    hint: 'add agents to a pool that can run it (cluster.scale(n, { pool })), or let it grow (cluster.adapt({ pool, min, max }))',
  });
}
