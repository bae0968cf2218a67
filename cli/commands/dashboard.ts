import { spawn } from 'node:child_process';
import { RemoteTransport } from '../../coordinator/transport/remote.js';
import { parseArgs } from '../args.js';
import { Exit, type Command } from '../command.js';
import { fail, json, out } from '../output.js';
import { liveServices } from './status.js';

export const dashboard: Command = {
  name: 'dashboard',
  summary: "a one-time login URL of a running service's web dashboard (and its /metrics)",
  help: `Usage: clustrix dashboard [profile] [--open] [--json]

Prints a one-time login URL of the service's dashboard (agents, calls, actors, errors, logs; cancel
a call, kill an actor, scale the pool). The URL works once, within 10 minutes, and leaves an
HttpOnly session cookie in the browser that opened it. The dashboard listens on 127.0.0.1: from
another machine, forward it first (ssh -L <port>:127.0.0.1:<port> login-node).
Exit code 3 when no service is running.

Options:
  --open   open the URL in the default browser (xdg-open, open)
  --json   print { url, loginUrl, metricsUrl, metricsToken } (metricsToken: Prometheus' bearer token)`,
  async run(argv) {
    const args = parseArgs(argv, { valued: [], boolean: ['open', 'json', 'help'] });
    const states = await liveServices(args.positionals[0]);
    const state = states[0];
    if (!state) {
      fail(args.positionals[0] ? `no service is running for '${args.positionals[0]}'` : 'no service is running (start one with `clustrix up <profile>`)');
      return Exit.notRunning;
    }
    if (states.length > 1) {
      fail(`${states.length} services are running (${states.map((s) => s.profile).join(', ')}): say which`);
      return Exit.usage;
    }
    const admin = await RemoteTransport.open(state.address, state.credential, 'clustrix dashboard');
    let access;
    try {
      access = await admin.call('dashboard');
    } finally {
      await admin.close();
    }
    if (!access) {
      fail(`the service for '${state.profile}' runs without a dashboard`);
      return Exit.failed;
    }
    if (args.flags.has('json')) json(access);
    else out(access.loginUrl);
    if (args.flags.has('open')) {
      // The URL is spent by its first use; it is in this child's argv only for that moment.
      const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
      spawn(opener, [access.loginUrl], { stdio: 'ignore', detached: true }).on('error', () => fail(`could not run ${opener}: open the URL by hand`)).unref();
    }
    return Exit.ok;
  },
};
