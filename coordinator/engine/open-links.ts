import type { AgentLink } from './link.js';

/**
 * The links that can take one more task of a kind, kept up to date as their load changes (a task
 * sent, a result back, a link added, drained or lost) instead of rescanned per dispatch. Insertion
 * order is the round robin: a link that takes a task and still has room goes to the back.
 */
export class OpenLinks {
  private readonly open = new Set<AgentLink>();

  constructor(private readonly room: (link: AgentLink) => number) {}

  get size(): number {
    return this.open.size;
  }

  has(link: AgentLink): boolean {
    return this.open.has(link);
  }

  /** The link whose turn it is; undefined when none has room. */
  first(): AgentLink | undefined {
    return this.open.values().next().value;
  }

  /** Re-reads the link's room after its load changed. */
  update(link: AgentLink): void {
    if (this.room(link) > 0) {
      if (!this.open.has(link)) this.open.add(link);
    } else {
      this.open.delete(link);
    }
  }

  /** The link took a task: to the back of the turn if it still has room, else out. */
  took(link: AgentLink): void {
    this.open.delete(link);
    if (this.room(link) > 0) this.open.add(link);
  }

  delete(link: AgentLink): void {
    this.open.delete(link);
  }

  values(): IterableIterator<AgentLink> {
    return this.open.values();
  }
}
