import { ConfigError } from '../errors/errors.js';
import type { ActorInfo, AgentInfo, LogEntry } from '../../protocol/rows.js';

/** What `cluster.on(event, listener)` delivers, the same in both modes. */
export interface ClusterEvents {
  /** The agents now, after one came, went or changed state. */
  agents: (agents: AgentInfo[]) => void;
  /** An actor changed state (started, restarting, alive again, dead). */
  actor: (info: ActorInfo) => void;
  /** A line of output of one of this cluster's tasks (also printed, unless `onLog` takes it). */
  log: (entry: LogEntry) => void;
}

/** Listeners by event. A listener that throws is reported on stderr, never to the transport. */
export class ClusterEventsHub {
  private readonly listeners = new Map<keyof ClusterEvents, Set<(arg: never) => void>>();

  on<E extends keyof ClusterEvents>(event: E, listener: ClusterEvents[E]): void {
    if (typeof listener !== 'function') throw new ConfigError(`cluster.on('${event}', listener) needs a function`);
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(listener as (arg: never) => void);
  }

  off<E extends keyof ClusterEvents>(event: E, listener: ClusterEvents[E]): void {
    this.listeners.get(event)?.delete(listener as (arg: never) => void);
  }

  emit<E extends keyof ClusterEvents>(event: E, arg: Parameters<ClusterEvents[E]>[0]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of set) {
      try {
        (listener as (a: typeof arg) => void)(arg);
      } catch (err) {
        process.emitWarning(`clustrix: a '${event}' listener threw: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}
