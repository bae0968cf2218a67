import type { WireError } from '../../protocol/client-messages.js';
import type { RemoteErrorInfo } from '../../protocol/common.js';
import { ActorDiedError, AgentLostError, CancelledError, ClusterClosedError, ClustrixError, ConfigError, RemoteError, TimeoutError, ValueTooLargeError } from '../errors/errors.js';

/** A typed error as it goes to a client. */
export function toWireError(err: unknown): WireError {
  if (!(err instanceof ClustrixError)) {
    const e = err instanceof Error ? err : new Error(String(err));
    return { code: 'INTERNAL', name: e.name, message: e.message };
  }
  const hintSuffix = err.hint ? `\n  hint: ${err.hint}` : '';
  const message = hintSuffix && err.message.endsWith(hintSuffix) ? err.message.slice(0, -hintSuffix.length) : err.message;
  const out: WireError = { code: err.code, name: err.name, message };
  if (err.hint) out.hint = err.hint;
  if (err instanceof RemoteError) {
    out.remote = remoteInfo(err);
    // An actor call's "task" is `Class.method on actor <id>`: it has spaces.
    const m = /\(task (.+) on agent (\S+)\)$/.exec(message);
    if (m) {
      out.taskId = m[1];
      out.agentId = m[2];
    }
  }
  if (err instanceof TimeoutError) out.timeoutMs = err.timeoutMs;
  if (err instanceof AgentLostError) out.agentId = err.agentId;
  if (err instanceof ActorDiedError) out.actorId = err.actorId;
  return out;
}

function remoteInfo(err: RemoteError): RemoteErrorInfo {
  const info: RemoteErrorInfo = { name: err.remoteName, message: err.remoteMessage };
  if (err.remoteStack !== undefined) info.stack = err.remoteStack;
  if (err.remoteCode !== undefined) info.code = err.remoteCode;
  if (err.cause instanceof RemoteError) info.cause = remoteInfo(err.cause);
  return info;
}

/** The same error class again, on the client's side. */
export function fromWireError(w: WireError): ClustrixError {
  const hinted = w.hint ? { hint: w.hint } : {};
  switch (w.code) {
    case 'REMOTE_ERROR':
      if (w.remote) return new RemoteError(w.remote, { taskId: w.taskId ?? '?', agentId: w.agentId ?? '?' });
      break;
    case 'TASK_TIMEOUT':
      return new TimeoutError(w.message, w.timeoutMs ?? 0);
    case 'CANCELLED':
      return new CancelledError(w.message);
    case 'AGENT_LOST':
      return new AgentLostError(w.message, w.agentId ?? '?');
    case 'ACTOR_DIED':
      return new ActorDiedError(w.message, w.actorId ?? '?', hinted);
    case 'CLUSTER_CLOSED':
      return new ClusterClosedError(w.message);
    case 'CONFIG_INVALID':
      return new ConfigError(w.message, hinted);
    case 'VALUE_TOO_LARGE':
      return new ValueTooLargeError(w.message, /^the arguments/.test(w.message) ? 'arguments' : 'result', hinted);
    default:
      break;
  }
  const err = new ClustrixError(w.code as ClustrixError['code'], w.message, hinted);
  err.name = w.name;
  return err;
}

