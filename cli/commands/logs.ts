import { Cluster } from '../../coordinator/api/cluster.js';
import { printLog } from '../../coordinator/api/logs.js';
import { parseArgs, stringFlag, UsageError } from '../args.js';
import { Exit, type Command } from '../command.js';
import { dim, fail } from '../output.js';
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
    let found: string | null = null;
    for (const state of await liveServices(stringFlag(args, 'profile'))) {
      const s = await statusOf(state);
      if (s.agents.some((a) => a.id === target || a.jobId === target)) found = state.profile;
    }
    if (found === null) {
      fail(`no running service has an agent or job '${target}' (see \`clustrix status\`)`);
      return Exit.notRunning;
    }
    const client = await Cluster.connect({ profile: found, name: `clustrix logs ${target}`, onLog: printLog });
    await client.followLogs(target);
    process.stderr.write(dim(`following ${target} of ${found} (Ctrl-C stops)\n`));
    return new Promise<number>((done) => {
      process.once('SIGINT', () => void client.close().then(() => done(Exit.ok)));
      // The service going away ends the stream.
      const check = setInterval(() => {
        client.status().catch(() => {
          clearInterval(check);
          process.stderr.write(dim('the service stopped\n'));
          done(Exit.ok);
        });
      }, 2_000);
    });
  },
};
