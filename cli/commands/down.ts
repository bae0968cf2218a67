import { processExists, readState, removeState } from '../../coordinator/service/state-file.js';
import { isServiceLive } from '../../coordinator/transport/discovery.js';
import { RemoteTransport } from '../../coordinator/transport/remote.js';
import { parseArgs, stringFlag, UsageError } from '../args.js';
import { Exit, type Command } from '../command.js';
import { fail, green, json, out } from '../output.js';
import { defaultProfile } from '../profiles.js';

export const down: Command = {
  name: 'down',
  summary: "stop a profile's service and cancel its jobs",
  help: `Usage: clustrix down [profile] [--json]

Stops the service \`clustrix up <profile>\` started: its agents exit, its scheduler jobs are
cancelled, its clients get a SERVICE_LOST error. Waits until the service process has exited.
Exit code 3 when no service is running for the profile.

Options:
  --timeout <s>   send SIGKILL if it has not exited after this many seconds (default: 120)
  --config <file> config file (for the default profile)
  --json          print { profile, pid, stopped } as JSON`,
  async run(argv) {
    const args = parseArgs(argv, { valued: ['timeout', 'config'], boolean: ['json', 'help'] });
    if (args.positionals.length > 1) throw new UsageError('down takes one profile');
    const profile = args.positionals[0] ?? defaultProfile(stringFlag(args, 'config'));
    const state = readState(profile);
    if (!state || !(await isServiceLive(state))) {
      if (state) removeState(profile, state.pid);
      if (args.flags.has('json')) json({ profile, pid: state?.pid ?? null, stopped: false, running: false });
      else fail(`no service is running for '${profile}'${state ? ' (removed a stale state file)' : ''}`);
      return Exit.notRunning;
    }
    try {
      const admin = await RemoteTransport.open(state.address, state.credential, 'clustrix down');
      await admin.callService('stop');
      await admin.close();
    } catch {
      // It answered the handshake a moment ago: it is ours. Stop it by signal.
      process.kill(state.pid, 'SIGTERM');
    }
    const timeoutMs = Number(stringFlag(args, 'timeout') ?? 120) * 1000;
    const started = Date.now();
    while (processExists(state.pid)) {
      if (Date.now() - started > timeoutMs) {
        process.kill(state.pid, 'SIGKILL');
        removeState(profile, state.pid);
        fail(`the service for '${profile}' did not exit in time; killed it (its jobs may need scancel/qdel)`);
        return Exit.failed;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (args.flags.has('json')) json({ profile, pid: state.pid, stopped: true });
    else out(`${green('✓')} ${profile}: stopped (pid ${state.pid}); its agents and jobs are gone`);
    return Exit.ok;
  },
};
