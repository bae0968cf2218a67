/**
 * Tasks the coordinator sent `parked`: their deps are being made on this agent, so they wait here,
 * taking no slot, and start the moment the last of them lands in the store, with no round trip to
 * the coordinator in between (a chain of dependent tasks runs at the speed of the agent). One not
 * started yet can be dropped without a trace (`withdraw`, `cancel`): the coordinator does that when
 * a dep is retried elsewhere, fails or is cancelled.
 */
export class ParkedTasks {
  /** By task id: the objects it still waits for, and what starts it. */
  private readonly held = new Map<string, { missing: Set<string>; start: () => void }>();
  /** By object id: the tasks waiting for it. */
  private readonly waiting = new Map<string, Set<string>>();

  get size(): number {
    return this.held.size;
  }

  /** Holds task `id` until every object of `missing` (none of them stored yet) has landed, then calls `start`. */
  hold(id: string, missing: readonly string[], start: () => void): void {
    this.held.set(id, { missing: new Set(missing), start });
    for (const objectId of missing) {
      let ids = this.waiting.get(objectId);
      if (!ids) this.waiting.set(objectId, (ids = new Set()));
      ids.add(id);
    }
  }

  /** An object is in the store now: tasks that waited for nothing else start, in the order they came. */
  landed(objectId: string): void {
    const ids = this.waiting.get(objectId);
    if (!ids) return;
    this.waiting.delete(objectId);
    for (const id of ids) {
      const entry = this.held.get(id);
      if (!entry) continue;
      entry.missing.delete(objectId);
      if (entry.missing.size > 0) continue;
      this.held.delete(id);
      entry.start();
    }
  }

  /** Drops a task still held; false when it is not held (it started, or was never parked). */
  drop(id: string): boolean {
    const entry = this.held.get(id);
    if (!entry) return false;
    this.held.delete(id);
    for (const objectId of entry.missing) {
      const ids = this.waiting.get(objectId);
      ids?.delete(id);
      if (ids?.size === 0) this.waiting.delete(objectId);
    }
    return true;
  }

  /** The coordinator is gone: it re-runs these elsewhere. */
  clear(): void {
    this.held.clear();
    this.waiting.clear();
  }
}
