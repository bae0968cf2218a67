import type { StatusReply } from '../../protocol/client-messages.js';
import { Cluster } from '../../coordinator/api/cluster.js';
import { isServiceProcess, listStates, readState, type ServiceState } from '../../coordinator/service/state-file.js';
import { parseArgs } from '../args.js';
import { Exit, type Command } from '../command.js';
import { dim, fail, formatBytes, formatMs, json, out, table } from '../output.js';

export const status: Command = {
  name: 'status',
  summary: 'agents of running services: host, job, slots, busy, tasks done, walltime left, RSS',
  help: `Usage: clustrix status [profile] [--json]

Shows each running service (or the one for profile): its agents (id, host, job id, slots, busy,
tasks done, walltime left, RSS) and the clients attached to it.
Exit code 3 when no service is running.

Options:
  --json   print the services' status as JSON (a list)`,
  async run(argv) {
    const args = parseArgs(argv, { valued: [], boolean: ['json', 'help'] });
    const states = await liveServices(args.positionals[0]);
    if (states.length === 0) {
      if (args.flags.has('json')) json([]);
      else fail(args.positionals[0] ? `no service is running for '${args.positionals[0]}'` : 'no service is running (start one with `clustrix up <profile>`)');
      return Exit.notRunning;
    }
    const replies: StatusReply[] = [];
    for (const state of states) replies.push(await statusOf(state));
    if (args.flags.has('json')) {
      json(replies.map(({ type: _type, id: _id, ...rest }) => ({ ...rest, address: states.find((s) => s.serviceId === rest.serviceId)?.address })));
      return Exit.ok;
    }
    for (const r of replies) printStatus(r);
    return Exit.ok;
  },
};

/** State files whose process is alive: of `profile`, or all. */
export async function liveServices(profile?: string): Promise<ServiceState[]> {
  const states = profile ? [readState(profile)].filter((s): s is ServiceState => s !== null) : listStates();
  return Promise.resolve(states.filter((s) => isServiceProcess(s.pid)));
}

export async function statusOf(state: ServiceState): Promise<StatusReply> {
  const client = await Cluster.connect({ profile: state.profile, name: 'clustrix status' });
  try {
    return await client.status();
  } finally {
    await client.close();
  }
}

function printStatus(r: StatusReply): void {
  const busy = r.agents.reduce((n, a) => n + a.busy, 0);
  const slots = r.agents.reduce((n, a) => n + a.slots, 0);
  out(`${r.profile} (${r.backend}): ${r.agents.length} agents, ${slots} slots, ${busy} busy; pid ${r.pid}, up ${formatMs(Date.now() - r.startedAt)}`);
  out(
    table(
      ['AGENT', 'HOST', 'JOB', 'SLOTS', 'BUSY', 'DONE', 'WALLTIME LEFT', 'RSS', 'STATE'],
      r.agents.map((a) => [a.id, a.host, a.jobId ?? '-', String(a.slots), String(a.busy), String(a.tasksDone), formatMs(a.walltimeLeftMs), formatBytes(a.rssBytes), a.state]),
    ),
  );
  const others = r.clients.filter((c) => c.name !== 'clustrix status');
  out(dim(others.length === 0 ? 'no clients attached' : `clients: ${others.map((c) => `${c.id} ${c.name} (${c.tasks} tasks)`).join(', ')}`));
  out();
}
