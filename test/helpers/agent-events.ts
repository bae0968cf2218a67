/**
 * Waiting on the agent list instead of sleeping: `agentsWhere` resolves when an `agents` event
 * (the same in both modes) shows what the test waits for; `watchAgents` records every list seen,
 * to count launches and removals after the fact.
 */
import type { AgentInfo, Cluster } from 'clustrix';

/** Resolves with the first agent list (now, or from an `agents` event) for which `ok` holds. */
export async function agentsWhere(cluster: Cluster, ok: (agents: AgentInfo[]) => boolean, what: string, timeoutMs = 20_000): Promise<AgentInfo[]> {
  let listener: ((agents: AgentInfo[]) => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<AgentInfo[]>((resolve, reject) => {
      listener = (agents) => {
        if (ok(agents)) resolve(agents);
      };
      cluster.on('agents', listener);
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for agents: ${what}`)), timeoutMs);
      cluster.agents().then((now) => {
        if (ok(now)) resolve(now);
      }, reject);
    });
  } finally {
    if (listener) cluster.off('agents', listener);
    clearTimeout(timer);
  }
}

/** Every agent list seen from now on, and the ids of every agent that ever appeared. */
export function watchAgents(cluster: Cluster): { lists: AgentInfo[][]; ids: Set<string>; stop(): void } {
  const lists: AgentInfo[][] = [];
  const ids = new Set<string>();
  const listener = (agents: AgentInfo[]): void => {
    lists.push(agents);
    for (const a of agents) ids.add(a.id);
  };
  cluster.on('agents', listener);
  return { lists, ids, stop: () => cluster.off('agents', listener) };
}
