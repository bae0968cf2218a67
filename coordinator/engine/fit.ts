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

/** The error for resources more than any agent has (`largest`); null when some agent could run it. */
export function unsatisfiableError(asked: Resources, largest: Resources): ResourcesUnsatisfiableError | null {
  const missing: Record<string, { asked: number; largest: number }> = {};
  for (const [name, amount] of Object.entries(withCpus(asked))) {
    const most = largest[name] ?? 0;
    if (amount > most) missing[name] = { asked: amount, largest: most };
  }
  const names = Object.keys(missing);
  if (names.length === 0) return null;
  const words = names.map((n) => `${n}: asks ${missing[n]!.asked}, the most any agent has is ${missing[n]!.largest}`).join('; ');
  return new ResourcesUnsatisfiableError(`no agent has the resources this task asks for (${words})`, missing);
}
