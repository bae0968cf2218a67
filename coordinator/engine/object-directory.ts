import type { Dep } from '../../protocol/object-messages.js';
import { ObjectLostError } from '../errors/errors.js';

/** What the directory needs of the agents (the engine's links), nothing more. */
export interface ObjectAgents {
  /** The agent's PeerServer address, or null when it has none (or is gone). */
  address(agentId: string): string | null;
  /** Asks the agent for an object's bytes. */
  get(agentId: string, objectId: string): Promise<Uint8Array>;
  /** Tells the agent to drop objects. */
  free(agentId: string, objectIds: string[]): void;
}

/** How an object that lives only on agents can be made again: the task that made it. */
export interface Lineage {
  /** Re-runs the producing task, keeping its result under the same id (the directory hears `kept` again). */
  rerun(): void;
  /** Re-runs left (the task's own loss retries). */
  retriesLeft: number;
  /** Names the task in messages. */
  what: string;
}

type State = 'pending' | 'ready' | 'lost';

/** Reads of one object that may each find its holders gone and wait for lineage to make it again. */
const BYTES_ROUNDS = 4;

interface Entry {
  id: string;
  state: State;
  size: number;
  /** The bytes, when the coordinator keeps them (`put` values, small results). */
  inline: Uint8Array | null;
  /** Agents holding a copy. */
  holders: Set<string>;
  lineage: Lineage | null;
  /** Handles (one per scope holding it) plus pins (tasks waiting on it, objects containing it). */
  refs: number;
  /** Refs inside this value: pinned while it lives. */
  contains: string[];
  waiters: { resolve(): void; reject(err: Error): void }[];
  lostWhy: string;
  /** What awaiting it gives when it cannot be had: the producing task's own error, or OBJECT_LOST. */
  error: Error | null;
}

/**
 * Where every value kept on the cluster is: the coordinator's copy for small and `put` values,
 * the agents that hold the rest, how to make it again (lineage), and who still needs it (counts
 * of handles and pins). An object nobody needs is freed everywhere; one whose agents are all
 * lost is made again from its lineage while anybody needs it, or fails its waiters with
 * OBJECT_LOST naming why. Values are bytes: the directory never decodes them.
 */
export class ObjectDirectory {
  private readonly entries = new Map<string, Entry>();
  /** Bytes the coordinator keeps itself (stats, bounds). */
  inlineBytes = 0;

  constructor(private readonly agents: ObjectAgents) {}

  get size(): number {
    return this.entries.size;
  }

  /** A task will make this object; `refs` starts at 1 (its creator's handle). */
  expect(id: string, lineage: Lineage | null): void {
    const entry = this.entries.get(id);
    if (entry) {
      // Made again (lineage): it is pending until the new copy is kept.
      entry.state = 'pending';
      entry.error = null;
      entry.lineage = lineage ?? entry.lineage;
      return;
    }
    this.entries.set(id, { id, state: 'pending', size: 0, inline: null, holders: new Set(), lineage, refs: 1, contains: [], waiters: [], lostWhy: '', error: null });
  }

  /** A `put`: the coordinator keeps the bytes (its creator can always send them again). */
  put(id: string, bytes: Uint8Array, contains: string[]): void {
    this.expect(id, null);
    this.kept(id, null, bytes.byteLength, bytes, contains);
  }

  /** The object exists now, on `agentId` (null: only here) and, when small, here too. */
  kept(id: string, agentId: string | null, size: number, inline: Uint8Array | null, contains: string[]): void {
    const entry = this.entries.get(id);
    if (!entry) {
      // Nobody needs it any more (freed while its task ran): drop the copy at once.
      if (agentId) this.agents.free(agentId, [id]);
      return;
    }
    if (entry.state !== 'ready') {
      for (const child of contains) this.pin(child);
      entry.contains = contains;
    }
    entry.state = 'ready';
    entry.size = size;
    if (inline && !entry.inline) {
      entry.inline = inline;
      this.inlineBytes += inline.byteLength;
    }
    if (agentId) entry.holders.add(agentId);
    for (const w of entry.waiters.splice(0)) w.resolve();
  }

  /** An agent fetched a copy for a task: later tasks needing it may run there. */
  copied(id: string, agentId: string): void {
    this.entries.get(id)?.holders.add(agentId);
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** Whether the object exists and `agentId` holds a copy. */
  heldBy(id: string, agentId: string): boolean {
    const entry = this.entries.get(id);
    return entry !== undefined && entry.state === 'ready' && entry.holders.has(agentId);
  }

  /** Resolves once every object exists; rejects with ObjectLostError for one that cannot. */
  async ready(ids: readonly string[]): Promise<void> {
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (!entry) throw new ObjectLostError(`object ${id} does not exist (it was freed, or never made here)`, id);
      if (entry.state === 'lost') throw entry.error ?? new ObjectLostError(`object ${id} is lost: ${entry.lostWhy}`, id);
      if (entry.state === 'pending') await new Promise<void>((resolve, reject) => entry.waiters.push({ resolve, reject }));
    }
  }

  /** Where a task needing these objects would find them: the agents holding the most bytes first. */
  holdersOf(ids: readonly string[]): Map<string, number> {
    const bytes = new Map<string, number>();
    for (const id of ids) {
      const entry = this.entries.get(id);
      if (!entry) continue;
      for (const agent of entry.holders) bytes.set(agent, (bytes.get(agent) ?? 0) + entry.size);
    }
    return bytes;
  }

  /** How an agent gets an object: from the coordinator's copy, or the peers holding it. */
  source(id: string): { inline: Uint8Array | null; from: string[]; holders: string[] } {
    const entry = this.entries.get(id);
    if (!entry) return { inline: null, from: [], holders: [] };
    const holders = [...entry.holders];
    const from = holders.map((a) => this.agents.address(a)).filter((a): a is string => a !== null);
    return { inline: entry.inline, from, holders };
  }

  /** The bytes: the coordinator's copy, or fetched from a holder. */
  async bytesOf(id: string): Promise<Uint8Array> {
    let last: unknown;
    // A holder lost during the read may have set lineage going: read the new copy then.
    for (let round = 0; round < BYTES_ROUNDS; round++) {
      await this.ready([id]);
      const entry = this.entries.get(id)!;
      if (entry.inline) return entry.inline;
      for (const agent of [...entry.holders]) {
        try {
          return await this.agents.get(agent, id);
        } catch (err) {
          last = err;
        }
      }
      if (this.entries.get(id)?.state !== 'pending') break;
    }
    throw new ObjectLostError(`object ${id} could not be read from any agent holding it${last ? `: ${(last as Error).message}` : ''}`, id);
  }

  /** One more handle or pin. */
  pin(id: string): void {
    const entry = this.entries.get(id);
    if (entry) entry.refs++;
  }

  /** One fewer; at zero the object is freed everywhere, and what it contains is unpinned. */
  unpin(id: string): void {
    const entry = this.entries.get(id);
    if (!entry || --entry.refs > 0) return;
    this.entries.delete(id);
    if (entry.inline) this.inlineBytes -= entry.inline.byteLength;
    for (const agent of entry.holders) this.agents.free(agent, [id]);
    for (const w of entry.waiters.splice(0)) w.reject(new ObjectLostError(`object ${id} was freed before it was made`, id));
    for (const child of entry.contains) this.unpin(child);
  }

  /**
   * An agent is gone: objects it alone held are made again from their lineage while somebody
   * needs them (the task's retries allowing), or are lost, failing whoever waits on them.
   */
  agentLost(agentId: string, reason: string): void {
    for (const entry of this.entries.values()) {
      if (!entry.holders.delete(agentId)) continue;
      if (entry.holders.size > 0 || entry.inline) continue;
      if (entry.lineage && entry.lineage.retriesLeft > 0) {
        entry.lineage.retriesLeft--;
        entry.state = 'pending';
        entry.lineage.rerun();
        continue;
      }
      this.lose(entry, `its only copy was on agent ${agentId}, which was lost (${reason})${entry.lineage ? `, and ${entry.lineage.what} has no retries left to make it again` : ' and nothing can make it again'}`);
    }
  }

  /** The task that was to make an object failed: whoever waits on it fails too (with `error`, when given). */
  failed(id: string, why: string, error?: Error): void {
    const entry = this.entries.get(id);
    if (entry && entry.state === 'pending') this.lose(entry, why, error);
  }

  /** Made or failed (what `wait` counts as done). */
  settled(id: string): boolean {
    const state = this.entries.get(id)?.state;
    return state !== 'pending';
  }

  /** Refs inside a made value. */
  containsOf(id: string): readonly string[] {
    return this.entries.get(id)?.contains ?? [];
  }

  /** Objects alive, the coordinator's bytes, and what each agent holds. */
  stats(): { objects: number; coordinatorBytes: number; agents: { agentId: string; objects: number; bytes: number }[] } {
    const agents = new Map<string, { agentId: string; objects: number; bytes: number }>();
    for (const entry of this.entries.values()) {
      for (const agentId of entry.holders) {
        let row = agents.get(agentId);
        if (!row) agents.set(agentId, (row = { agentId, objects: 0, bytes: 0 }));
        row.objects++;
        row.bytes += entry.size;
      }
    }
    return { objects: this.entries.size, coordinatorBytes: this.inlineBytes, agents: [...agents.values()] };
  }

  /** Drops everything (the engine closes). */
  clear(error: Error): void {
    for (const entry of this.entries.values()) for (const w of entry.waiters.splice(0)) w.reject(error);
    this.entries.clear();
    this.inlineBytes = 0;
  }

  private lose(entry: Entry, why: string, error?: Error): void {
    entry.state = 'lost';
    entry.lostWhy = why;
    entry.error = error ?? null;
    for (const w of entry.waiters.splice(0)) w.reject(error ?? new ObjectLostError(`object ${entry.id} is lost: ${why}`, entry.id));
  }
}

/** What an agent is told of the objects a call's arguments refer to: where each is, and which it fetches only when awaited. */
export function depsOf(directory: ObjectDirectory, refs: readonly string[], lazy: readonly string[]): Dep[] {
  const nested = new Set(lazy);
  return refs.map((objectId) => {
    const from = directory.source(objectId).from;
    return nested.has(objectId) ? { objectId, from, lazy: true } : { objectId, from };
  });
}
