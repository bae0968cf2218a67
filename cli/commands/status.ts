import type { ServiceStatus } from '../../protocol/service-messages.js';
import { readState, type ServiceState } from '../../coordinator/service/state-file.js';
import { isServiceLive, liveServices as allLive, PROBE_CLIENT } from '../../coordinator/transport/discovery.js';
import { RemoteTransport } from '../../coordinator/transport/remote.js';
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
    const replies: ServiceStatus[] = [];
    for (const state of states) replies.push(await statusOf(state));
    if (args.flags.has('json')) {
      json(replies.map((r) => ({ ...r, clients: r.clients.filter(isUserClient), address: states.find((s) => s.serviceId === r.serviceId)?.address })));
      return Exit.ok;
    }
    for (const r of replies) printStatus(r);
    return Exit.ok;
  },
};

const STATUS_CLIENT = 'clustrix status';

/**
 * Not this command's own connection, nor the liveness probe that found the service (its close
 * may reach the service after the status request does).
 */
function isUserClient(c: { name: string }): boolean {
  return c.name !== STATUS_CLIENT && c.name !== PROBE_CLIENT;
}

/** Services that answer: of `profile`, or all. */
export async function liveServices(profile?: string): Promise<ServiceState[]> {
  if (profile === undefined) return allLive();
  const state = readState(profile);
  return state && (await isServiceLive(state)) ? [state] : [];
}

export async function statusOf(state: ServiceState): Promise<ServiceStatus> {
  const admin = await RemoteTransport.open(state.address, state.credential, STATUS_CLIENT);
  try {
    return await admin.callService('status');
  } finally {
    await admin.close();
  }
}

function printStatus(r: ServiceStatus): void {
  const busy = r.agents.reduce((n, a) => n + a.busy, 0);
  const slots = r.agents.reduce((n, a) => n + a.slots, 0);
  out(`${r.profile} (${r.backend}): ${r.agents.length} agents, ${slots} slots, ${busy} busy; pid ${r.pid}, up ${formatMs(Date.now() - r.startedAt)}`);
  out(
    table(
      ['AGENT', 'POOL', 'HOST', 'JOB', 'SLOTS', 'BUSY', 'DONE', 'WALLTIME LEFT', 'RSS', 'STATE'],
      r.agents.map((a) => [a.id, a.pool, a.host, a.jobId ?? '-', String(a.slots), String(a.busy), String(a.tasksDone), formatMs(a.walltimeLeftMs), formatBytes(a.rssBytes), a.state]),
    ),
  );
  const others = r.clients.filter(isUserClient);
  out(dim(others.length === 0 ? 'no clients attached' : `clients: ${others.map((c) => `${c.id} ${c.name} (${c.tasks} tasks)`).join(', ')}`));
  out();
}
