import type { LogEntry } from '../../protocol/rows.js';
import { CloseCode } from '../../protocol/version.js';
import type { Engine } from '../engine/engine.js';
import { MAX_AGENTS } from '../engine/scope.js';
import { CancelledError, ProtocolError } from '../errors/errors.js';
import type { LiveSource } from './live.js';

/** The engine as a live view sees it: its state in one snapshot, and the actions a view may take. */
export function liveSource(engine: Engine): LiveSource {
  return {
    snapshot: () => {
      const { done, failed, cancelled } = engine.work.outcomes;
      return {
        title: `clustrix ${engine.options.backend} · ${engine.id}`,
        agents: engine.agents(),
        pending: engine.pendingAgents(),
        calls: engine.work.callRows([...engine.pool.links.values()].flatMap((link) => link.inflight.values())),
        actors: engine.actors.list(),
        errors: engine.work.recentErrors(),
        detached: engine.detached?.list() ?? [],
        totals: { done, failed, cancelled, queued: engine.scheduler.queued, running: engine.scheduler.running },
      };
    },
    cancelCall: (client, callId) => {
      const scope = [...engine.scopes].find((s) => s.name === client);
      if (!scope) throw new ProtocolError(`no client '${client.slice(0, 100)}' is connected`, CloseCode.protocolError);
      return scope.cancelCall(callId, new CancelledError(`call ${callId} was cancelled from the dashboard`));
    },
    killActor: (actorId) => engine.actors.kill(actorId),
    scale: async (agents, pool) => {
      if (agents > MAX_AGENTS) throw new ProtocolError(`scale needs a whole number of agents from 0 to ${MAX_AGENTS}, got ${agents}`, CloseCode.protocolError);
      await engine.pool.scale(agents, pool);
    },
    followLogs: (push: (entry: LogEntry) => void) => {
      const scope = engine.openScope('dashboard', { agents: () => undefined, actor: () => undefined, log: push }, 'scope');
      scope.follow = null;
      return { close: () => scope.close(new CancelledError('the dashboard page closed')) };
    },
  };
}
