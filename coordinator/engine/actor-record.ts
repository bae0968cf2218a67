import type { ActorSpec } from '../../protocol/core-methods.js';
import type { Dep } from '../../protocol/object-messages.js';
import type { ActorInfo, ActorState } from '../../protocol/rows.js';
import type { AgentLink } from './link.js';
import type { ShippedCode } from './task.js';

/** One call of an actor, from its making until it is answered (or fails). */
export interface Call {
  id: string;
  method: string;
  args: Uint8Array;
  /** Objects its arguments refer to, and where they are (once they all exist). */
  refs: readonly string[];
  /** Those of `refs` only nested inside an argument (fetched when awaited). */
  lazy: readonly string[];
  deps: Dep[];
  resolve: (result: ActorResult) => void;
  reject: (err: unknown) => void;
}

/** A call's packed result, and the refs inside it: each pinned once for the taker, who adopts or releases it. */
export interface ActorResult {
  value: Uint8Array;
  refs: readonly string[];
}

export interface ActorRecord {
  id: string;
  code: ShippedCode;
  spec: ActorSpec;
  link: AgentLink | null;
  state: ActorState;
  restarts: number;
  callsServed: number;
  /** Sent to the agent, not answered. */
  inflight: Map<string, Call>;
  /** Made while (re)starting: sent, in order, once the actor is ready. */
  backlog: Call[];
  /** Calls waiting for their ref arguments to exist, or behind one that is (calls keep their order). */
  gated: Call[];
  /** Settles the first construction. */
  created: { resolve: (info: ActorInfo) => void; reject: (e: unknown) => void } | null;
  /** Why the last incarnation ended, for messages. */
  lastCause: string;
  /** The latest state the actor sent (checkpoint option): kept here, away from its agent. */
  checkpoint: { state: Uint8Array; calls: number } | null;
  /** The calls of the checkpoint the current incarnation was restored from; null: its constructor. */
  restoredFrom: number | null;
  /** It was told (once) that it waits for slots other actors hold. */
  warnedWaiting?: boolean;
  /** Its constructor's ref arguments exist (it is placed only then); they stay pinned while it lives. */
  argsReady: boolean;
}

/** An actor's row, as `actors()` and the actor events show it. */
export function actorInfo(r: ActorRecord): ActorInfo {
  return { id: r.id, name: r.spec.name, className: r.code.name, agentId: r.link?.id ?? null, state: r.state, callsServed: r.callsServed, restarts: r.restarts, restoredFrom: r.restoredFrom, checkpointCalls: r.checkpoint?.calls ?? null };
}

/** Worker slots the actor keeps from tasks while it lives. */
export function cpusOf(record: ActorRecord): number {
  return record.spec.resources.cpus ?? 0;
}

/** How messages name an actor: its name when it has one, and always its id. */
export function label(record: ActorRecord): string {
  return record.spec.name ? `'${record.spec.name}' (${record.id})` : record.id;
}
