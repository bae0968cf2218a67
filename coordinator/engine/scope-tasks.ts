import { CancelledError, ProtocolError, type ClustrixError } from '../errors/errors.js';
import { CloseCode } from '../../protocol/version.js';
import { Slots } from '../util/slots.js';
import { TaskIndex } from '../util/task-index.js';
import type { LocalTask } from './submit.js';
import type { TaskOrigin, TaskRecord } from './task.js';

/** Cancelled calls a scope remembers (to refuse their stragglers); the oldest are forgotten. */
const MAX_CANCELLED_CALLS = 1_000;

/**
 * A scope's tasks not settled yet, so that cancelling (one task, one call, the whole scope) finds
 * them: by the caller's id (a client cancels by id, and may not reuse an id in flight), or in a
 * numbered slot for a caller whose ids are unique by construction.
 */
export class ScopeTasks {
  /**
   * By the caller's id. Found without hashing when the id ends in a counter, as a Cluster's do
   * (`t<n>`, task-call.ts): a service session puts, finds and removes each of its client's tasks here.
   */
  private readonly byId = new TaskIndex<LocalTask[]>();
  /**
   * No by-id entry (hashing each task's id into a map and out again was a measurable share of a
   * trivial map); each knows its slot (`origin.ownSlot`).
   */
  private readonly own = new Slots<LocalTask>();
  /** Calls cancelled as a whole (from the dashboard): their later tasks are refused too. */
  private readonly cancelledCalls = new Set<string>();

  get count(): number {
    let n = this.own.size;
    for (const subs of this.byId.values()) n += subs.length;
    return n;
  }

  /** Throws when a task of call `call` may not start: the call was cancelled as a whole. */
  assertCallLive(call: { id: string; label: string } | null | undefined): void {
    if (call && this.cancelledCalls.has(call.id)) throw new CancelledError(`call ${call.id} (${call.label}) was cancelled`);
  }

  /** Throws when `id` names a task of this caller not settled yet. */
  assertFree(id: string): void {
    if (this.byId.has(id)) throw new ProtocolError(`task id ${id} is in use by a task of this caller that has not settled`, CloseCode.protocolError);
  }

  /** Tracks `subs` under the caller's `id` until {@link untrack} or the one task's {@link settled}. */
  track(id: string, subs: LocalTask[]): void {
    this.byId.set(id, subs);
  }

  /** Tracks a task without an id entry; returns its slot (for `origin.ownSlot`). */
  trackOwn(sub: LocalTask): number {
    return this.own.add(sub);
  }

  /** Forgets `id` if it still names `subs` (a later task may have taken the id). */
  untrack(id: string, subs?: LocalTask[]): void {
    if (subs === undefined || this.byId.get(id) === subs) this.byId.delete(id);
  }

  /** `task`, tracked alone under its id or in its slot, settled: forgotten. */
  settled(task: TaskRecord, origin: TaskOrigin): void {
    const slot = origin.ownSlot ?? -1;
    if (slot >= 0) {
      if (this.own.at(slot)?.task === task) this.own.remove(slot);
    } else {
      const subs = this.byId.get(origin.taskId);
      if (subs?.length === 1 && subs[0]!.task === task) this.byId.delete(origin.taskId);
    }
  }

  /** Cancels the tasks under the caller's `id`. */
  cancel(id: string): void {
    for (const s of this.byId.get(id) ?? []) s.cancel(new CancelledError(`task ${id} was cancelled`));
  }

  /** Cancels every task of one call (a map's, or a single task's), and refuses its later ones. */
  cancelCall(callId: string, error: ClustrixError): number {
    this.cancelledCalls.add(callId);
    if (this.cancelledCalls.size > MAX_CANCELLED_CALLS) this.cancelledCalls.delete(this.cancelledCalls.values().next().value!);
    let n = 0;
    for (const s of this.unsettled()) {
      if (s.task.origin?.callId !== callId) continue;
      s.cancel(error);
      n++;
    }
    return n;
  }

  /** Cancels every task and forgets them all; returns how many. */
  cancelAll(error: ClustrixError): number {
    let n = 0;
    for (const s of this.unsettled()) {
      s.result?.catch(() => undefined);
      s.cancel(error);
      n++;
    }
    this.byId.clear();
    this.own.clear();
    return n;
  }

  /** Every task not settled yet (a snapshot: cancelling them changes the sets). */
  private unsettled(): LocalTask[] {
    const out = this.own.values();
    for (const subs of this.byId.values()) out.push(...subs);
    return out;
  }
}
