import { printLog } from '../../coordinator/api/logs.js';
import { RemoteTransport } from '../../coordinator/transport/remote.js';
import { parseArgs, stringFlag, UsageError } from '../args.js';
import { Exit, type Command } from '../command.js';
import { dim, fail } from '../output.js';
import type { ServiceState } from '../../coordinator/service/state-file.js';
import { liveServices, statusOf } from './status.js';

export const logs: Command = {
  name: 'logs',
  summary: "stream an agent's (or job's) output as it comes",
  help: `Usage: clustrix logs <agent|job> [-p profile]

Streams every line the agent (given by agent id or job id, as \`clustrix status\` lists them)
prints from now on, whichever client's task printed it, as [agent task] line. Ctrl-C stops.
Exit code 3 when no running service has that agent.`,
  async run(argv) {
    const args = parseArgs(argv, { valued: ['profile'], boolean: ['help'], aliases: { p: 'profile' } });
    const target = args.positionals[0];
    if (target === undefined) throw new UsageError('logs needs an agent id or a job id');
    let found: ServiceState | null = null;
    for (const state of await liveServices(stringFlag(args, 'profile'))) {
      const s = await statusOf(state);
      if (s.agents.some((a) => a.id === target || a.jobId === target)) found = state;
    }
    if (found === null) {
      fail(`no running service has an agent or job '${target}' (see \`clustrix status\`)`);
      return Exit.notRunning;
    }
    const admin = await RemoteTransport.open(found.address, found.credential, `clustrix logs ${target}`);
    return new Promise<number>((done) => {
      admin.setEvents({
        log: printLog,
        agents: () => undefined,
        actor: () => undefined,
        // The service going away ends the stream.
        lost: () => {
          process.stderr.write(dim('the service stopped\n'));
          done(Exit.ok);
        },
      });
      process.once('SIGINT', () => void admin.close().then(() => done(Exit.ok)));
      admin.call('followLogs', target).then(
        () => process.stderr.write(dim(`following ${target} of ${found.profile} (Ctrl-C stops)\n`)),
        (err: unknown) => {
          fail(`cannot follow ${target}: ${(err as Error).message}`);
          done(Exit.failed);
        },
      );
    });
  },
};
