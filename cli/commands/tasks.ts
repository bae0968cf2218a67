import type { TaskHistoryEntry } from '../../protocol/rows.js';
import type { ServiceState } from '../../coordinator/service/state-file.js';
import { RemoteTransport } from '../../coordinator/transport/remote.js';
import { intFlag, parseArgs, stringFlag, UsageError } from '../args.js';
import { Exit, type Command } from '../command.js';
import { dim, fail, formatBytes, formatMs, json, out, table } from '../output.js';
import { liveServices } from './status.js';

const OUTCOMES = ['done', 'failed', 'cancelled'] as const;

export const tasks: Command = {
  name: 'tasks',
  summary: 'recent tasks of running services: function, client, agent, times, outcome, error',
  help: `Usage: clustrix tasks [profile] [--json] [--limit n] [--outcome done|failed|cancelled]

Lists the most recent settled tasks of each running service (or the one for profile), newest
first, from the service's bounded history: function (or map label), call, client, agent, queued
and run times, outcome, error; then its detached calls (id, kind: map, stream or call, function,
client, state, tasks settled, bytes kept).
Exit code 3 when no service is running.

Options:
  --limit n       most tasks per service (default 50)
  --outcome kind  only tasks that ended so
  --json          print [{ profile, entries, total, evicted, detached }] as JSON`,
  async run(argv) {
    const args = parseArgs(argv, { valued: ['limit', 'outcome'], boolean: ['json', 'help'] });
    const limit = intFlag(args, 'limit', 1) ?? 50;
    const outcome = stringFlag(args, 'outcome') ?? null;
    if (outcome !== null && !(OUTCOMES as readonly string[]).includes(outcome)) throw new UsageError(`--outcome must be one of ${OUTCOMES.join(', ')}`);
    const states = await liveServices(args.positionals[0]);
    if (states.length === 0) {
      if (args.flags.has('json')) json([]);
      else fail(args.positionals[0] ? `no service is running for '${args.positionals[0]}'` : 'no service is running (start one with `clustrix up <profile>`)');
      return Exit.notRunning;
    }
    const replies = [];
    for (const state of states) replies.push({ profile: state.profile, ...(await historyOf(state, limit, outcome as (typeof OUTCOMES)[number] | null)) });
    if (args.flags.has('json')) {
      json(replies);
      return Exit.ok;
    }
    for (const r of replies) {
      out(`${r.profile}: ${r.entries.length} of ${r.total} tasks settled since the service started${r.evicted ? ` (${r.evicted} no longer in the history)` : ''}`);
      if (r.entries.length > 0) out(table(['ENDED', 'FUNCTION', 'CALL', 'CLIENT', 'AGENT', 'QUEUED', 'RAN', 'OUTCOME', 'ERROR'], r.entries.map(row)));
      if (r.detached.length > 0) {
        out('detached calls (cluster.collect(id)):');
        out(table(['ID', 'KIND', 'FUNCTION', 'CLIENT', 'STATE', 'TASKS', 'KEPT'], r.detached.map((d) => [d.id, d.kind, d.label, d.client, d.state, `${d.settled}/${d.tasks}`, formatBytes(d.bytes)])));
      }
      out();
    }
    return Exit.ok;
  },
};

async function historyOf(state: ServiceState, limit: number, outcome: (typeof OUTCOMES)[number] | null) {
  const admin = await RemoteTransport.open(state.address, state.credential, 'clustrix tasks');
  try {
    return { ...(await admin.call('history', { limit, outcome, callId: null })), detached: await admin.call('detachedList') };
  } finally {
    await admin.close();
  }
}

function row(e: TaskHistoryEntry): string[] {
  const queued = (e.startedAt ?? e.endedAt) - e.submittedAt;
  const ran = e.startedAt === null ? null : e.endedAt - e.startedAt;
  const error = e.error ? `${e.error.code}: ${e.error.message}`.slice(0, 80) : '';
  return [new Date(e.endedAt).toISOString().slice(11, 23), e.label, e.callId, e.client, e.agentId ?? '-', duration(queued), ran === null ? '-' : duration(ran), e.outcome, error ? dim(error) : ''];
}

function duration(ms: number): string {
  return ms < 10_000 ? `${Math.max(0, Math.round(ms))}ms` : formatMs(ms);
}
