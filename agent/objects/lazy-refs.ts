import type { Dep } from '../../protocol/object-messages.js';
import type { AgentObjects } from './agent-objects.js';

/**
 * Where the refs nested in a task's (actor call's, actor's) arguments are, by its id: a nested ref
 * is read only when the task awaits it, from the holders its message named. Top-level refs are
 * fetched before the task starts instead (`eager`).
 */
export class LazyRefs {
  private readonly byOwner = new Map<string, Dep[]>();

  constructor(private readonly objects: () => AgentObjects) {}

  /** Notes where `id`'s nested refs are and answers the deps to fetch before it starts. */
  eager(id: string, deps: readonly Dep[]): Dep[] {
    if (deps.length === 0) return [];
    const lazy = deps.filter((d) => d.lazy === true);
    if (lazy.length > 0) this.byOwner.set(id, lazy);
    return lazy.length === 0 ? [...deps] : deps.filter((d) => d.lazy !== true);
  }

  /** The bytes of a ref `context` awaits: kept here, or fetched from where its message said. */
  async read(objectId: string, context: string): Promise<Uint8Array> {
    const dep = this.byOwner.get(context)?.find((d) => d.objectId === objectId) ?? { objectId, from: [] };
    const bytes = (await this.objects().resolve([dep])).get(objectId);
    if (!bytes) throw new Error(`object ${objectId} could not be read`);
    return bytes;
  }

  /** `id` ended: its refs can no longer be awaited. */
  delete(id: string): void {
    this.byOwner.delete(id);
  }

  clear(): void {
    this.byOwner.clear();
  }
}
