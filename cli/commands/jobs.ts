import { parseArgs } from '../args.js';
import { Exit, type Command } from '../command.js';
import { fail, formatMs, json, out, table } from '../output.js';
import { liveServices, statusOf } from './status.js';

export const jobs: Command = {
  name: 'jobs',
  summary: 'scheduler jobs (or pods, processes) the running services own',
  help: `Usage: clustrix jobs [profile] [--json]

Lists the jobs each running service owns: those of its connected agents, and those still queued
or starting (state 'pending'): job id (SLURM/PBS/SGE job, Kubernetes Job, or pid-… for local and
ssh agents), agent, host, state, walltime left.
Exit code 3 when no service is running.`,
  async run(argv) {
    const args = parseArgs(argv, { valued: [], boolean: ['json', 'help'] });
    const states = await liveServices(args.positionals[0]);
    if (states.length === 0) {
      if (args.flags.has('json')) json([]);
      else fail('no service is running');
      return Exit.notRunning;
    }
    const rows: { profile: string; backend: string; pool: string; jobId: string | null; agent: string; host: string; state: string; walltimeLeftMs: number | null }[] = [];
    for (const state of states) {
      const s = await statusOf(state);
      for (const a of s.agents) rows.push({ profile: s.profile, backend: s.backend, pool: a.pool, jobId: a.jobId, agent: a.id, host: a.host, state: a.state, walltimeLeftMs: a.walltimeLeftMs });
      // Jobs still queued (or starting) own agents that have not connected yet.
      for (const p of s.pending) rows.push({ profile: s.profile, backend: s.backend, pool: p.pool, jobId: p.jobId, agent: p.agentId, host: '-', state: 'pending', walltimeLeftMs: null });
    }
    if (args.flags.has('json')) json(rows);
    else out(table(['PROFILE', 'BACKEND', 'POOL', 'JOB', 'AGENT', 'HOST', 'STATE', 'WALLTIME LEFT'], rows.map((r) => [r.profile, r.backend, r.pool, r.jobId ?? '-', r.agent, r.host, r.state, formatMs(r.walltimeLeftMs)])));
    return Exit.ok;
  },
};
