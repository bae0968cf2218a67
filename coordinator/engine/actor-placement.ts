import { ConfigError, ResourcesUnsatisfiableError, type ClustrixError } from '../errors/errors.js';
import type { AgentLink } from './link.js';

/** Where an actor can go now: an agent, nowhere yet (wait for room), or never (the error says why). */
export type Placement = { link: AgentLink } | { wait: true } | { error: ClustrixError };

/**
 * Chooses an agent for an actor among the ready ones: the one it names, else the least loaded
 * (most slots free of actors and running tasks) of those with `cpus` slots not held by actors.
 * Asking for more cpus than any agent has can never be placed.
 */
export function placeActor(ready: readonly AgentLink[], want: { agent: string | null; cpus: number; what: string }): Placement {
  if (want.agent !== null) {
    const chosen = ready.find((l) => l.id === want.agent);
    if (chosen) return { link: chosen };
    return { error: new ConfigError(`agent '${want.agent}' is not connected (agents: ${ready.map((l) => l.id).join(', ') || 'none'})`) };
  }
  if (ready.length > 0 && want.cpus > 0) {
    const largest = Math.max(...ready.map((l) => l.slots));
    if (largest < want.cpus) {
      return {
        error: new ResourcesUnsatisfiableError(`actor ${want.what} asks for ${want.cpus} cpus (slots); the largest agent has ${largest}`, {
          cpus: { asked: want.cpus, largest },
        }),
      };
    }
  }
  let best: AgentLink | null = null;
  let bestFree = -Infinity;
  for (const link of ready) {
    if (link.slots - link.actorSlots < want.cpus) continue;
    const free = link.slots - link.actorSlots - link.inflight.size;
    if (free > bestFree) {
      best = link;
      bestFree = free;
    }
  }
  return best ? { link: best } : { wait: true };
}
