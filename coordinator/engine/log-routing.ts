import type { LogEntry } from '../../protocol/rows.js';
import type { Logger } from '../util/logger.js';
import type { EngineScope } from './scope.js';
import type { OriginScope } from './task.js';

/**
 * A task's line goes to the scope whose task printed it (`owner`, under its own task id), and to
 * every scope that follows its agent (by agent id or batch job id); a line nobody owns is logged.
 */
export function routeLog(entry: LogEntry, owner: { scope: OriginScope; taskId: string } | undefined, scopes: Iterable<EngineScope>, jobIdOf: (agentId: string) => string | undefined, log: Logger): void {
  owner?.scope.emitLog({ ...entry, taskId: owner.taskId });
  let jobId: string | null | undefined;
  for (const scope of scopes) {
    if (scope === owner?.scope || scope.follow === undefined) continue;
    if (scope.follow !== null && scope.follow !== entry.agentId) {
      jobId ??= jobIdOf(entry.agentId) ?? null;
      if (scope.follow !== jobId) continue;
    }
    scope.emitLog(entry);
  }
  if (!owner) log.debug(`[${entry.agentId}${entry.taskId ? ` ${entry.taskId}` : ''}] ${entry.text.trimEnd()}`);
}
