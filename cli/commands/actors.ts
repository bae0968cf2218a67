import { Cluster } from '../../coordinator/api/cluster.js';
import { parseArgs, stringFlag } from '../args.js';
import { Exit, type Command } from '../command.js';
import { dim, fail, json, out, table } from '../output.js';
import { liveServices } from './status.js';

export const actors: Command = {
  name: 'actors',
  summary: "a service's actors (named ones outlive their clients); --kill <name> ends one",
  help: `Usage: clustrix actors [profile] [--kill <name>] [--json]

Lists the actors of the running service (or of profile's): id, name, class, agent, state, calls
served, restarts. Named actors stay after the client that made them is gone; --kill ends one by
name. Exit code 3 when no service is running, 1 when no live actor has that name.

Options:
  --kill <name>   kill the named actor
  --json          print the actors as JSON (a list)`,
  async run(argv) {
    const args = parseArgs(argv, { valued: ['kill'], boolean: ['json', 'help'] });
    const profile = args.positionals[0];
    const states = await liveServices(profile);
    const state = states[0];
    if (state === undefined) {
      fail(`no service is running${profile ? ` for '${profile}'` : ''}\n  hint: start one with \`clustrix up ${profile ?? '<profile>'}\``);
      return Exit.notRunning;
    }
    if (states.length > 1) {
      fail(`${states.length} services are running (${states.map((s) => s.profile).join(', ')}): name one, e.g. \`clustrix actors ${states[0]?.profile ?? '<profile>'}\``);
      return Exit.usage;
    }
    const cluster = await Cluster.connect({ address: state.address, credential: state.credential, name: ACTORS_CLIENT, onLog: () => undefined });
    try {
      const name = stringFlag(args, 'kill');
      if (name !== undefined) {
        const handle = await cluster.getActor(name);
        if (!handle) {
          fail(`no live actor is named '${name}' on '${state.profile}'\n  hint: \`clustrix actors ${state.profile}\` lists them`);
          return Exit.failed;
        }
        await handle.kill();
        if (args.flags.has('json')) json({ killed: name, id: handle.id });
        else out(`killed actor '${name}' (${handle.id})`);
        return Exit.ok;
      }
      const rows = await cluster.actors();
      if (args.flags.has('json')) {
        json(rows);
        return Exit.ok;
      }
      if (rows.length === 0) out(dim(`no actors on '${state.profile}'`));
      else out(table(['ID', 'NAME', 'CLASS', 'AGENT', 'STATE', 'CALLS', 'RESTARTS'], rows.map((a) => [a.id, a.name ?? '-', a.className, a.agentId ?? '-', a.state, String(a.callsServed), String(a.restarts)])));
      return Exit.ok;
    } finally {
      await cluster.close();
    }
  },
};

/** This command's own connection, left out of `status`'s client list. */
export const ACTORS_CLIENT = 'clustrix actors';
