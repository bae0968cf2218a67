import { spawn } from 'node:child_process';
import { fchmodSync, openSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ClusterService } from '../../coordinator/service/service.js';
import { ensureServicesDir, logFilePath, readState, type ServiceState } from '../../coordinator/service/state-file.js';
import { isServiceLive } from '../../coordinator/transport/discovery.js';
import { intFlag, parseArgs, stringFlag, UsageError } from '../args.js';
import { Exit, type Command } from '../command.js';
import { dim, fail, green, json, out } from '../output.js';
import { defaultProfile, profileOptions } from '../profiles.js';

const SPEC = { valued: ['agents', 'config', 'port', 'host', 'timeout', 'detached-bytes'], boolean: ['foreground', 'json', 'help'], aliases: { n: 'agents', h: 'help' } };

export const up: Command = {
  name: 'up',
  summary: 'start a long-lived coordinator holding a warm pool for the profile',
  help: `Usage: clustrix up [profile] [-n agents] [--detached-bytes n] [--foreground] [--json]

Starts a coordinator service that launches the profile's pool (local, ssh, slurm, pbs, sge,
kubernetes) and keeps it warm for programs that attach with Cluster.connect(). It writes its
address and a client credential to ~/.config/clustrix/services/<profile>.json (mode 0600) and
runs in the background; \`clustrix down <profile>\` stops it and cancels its jobs.

Options:
  -n, --agents <n>   agents to launch (default: the profile's)
  --foreground       stay in the foreground (Ctrl-C stops the service)
  --port <port>      port for clients (default: a free one)
  --host <addr>      address for clients (default: 127.0.0.1)
  --timeout <s>      give up if the pool is not up in this many seconds (default: 600)
  --detached-bytes <n>  most bytes of detached calls' results kept in the state directory;
                     past it the oldest finished calls are dropped (default: 1 GiB)
  --config <file>    config file (default: ./clustrix.config.yaml, else ~/.config/clustrix/config.yaml)
  --json             print the service's state as JSON
The profile 'local' works without a config file.`,
  async run(argv) {
    const args = parseArgs(argv, SPEC);
    if (args.positionals.length > 1) throw new UsageError(`up takes one profile, got ${args.positionals.join(' ')}`);
    const config = stringFlag(args, 'config');
    const profile = args.positionals[0] ?? defaultProfile(config);
    const agents = intFlag(args, 'agents', 0);
    const port = intFlag(args, 'port', 0);
    const detachedBytes = intFlag(args, 'detached-bytes', 0);
    const existing = readState(profile);
    if (existing && (await isServiceLive(existing))) {
      fail(`a service for '${profile}' is already running (pid ${existing.pid}, ${existing.address})\n  hint: clustrix status ${profile}; clustrix down ${profile}`);
      return Exit.failed;
    }
    // Checked here too, so a bad profile fails at once rather than in the background.
    const options = { ...profileOptions(profile, config), ...(agents === undefined ? {} : { agents }) };
    if (args.flags.has('foreground')) {
      const service = await ClusterService.start({ profile, cluster: options, host: stringFlag(args, 'host'), port, detachedBytes, logFile: process.env.CLUSTRIX_SERVICE_LOG ?? null });
      const stop = (signal: string): void => void service.stop(`signal ${signal}`);
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, stop);
      const state = service.state();
      if (args.flags.has('json')) json(shown(state));
      else out(`${green('✓')} ${profile}: ${state.agents} agents (${state.backend}) ready at ${state.address}; pid ${state.pid}`);
      await service.stopped;
      return Exit.ok;
    }
    return background(profile, argv, args.flags.has('json'), (intFlag(args, 'timeout', 1) ?? 600) * 1000);
  },
};

async function background(profile: string, argv: readonly string[], asJson: boolean, timeoutMs: number): Promise<number> {
  ensureServicesDir();
  const log = logFilePath(profile);
  const fd = openSync(log, 'w', 0o600);
  fchmodSync(fd, 0o600); // open's mode applies only to a file it creates; a log from an earlier run is reused
  const main = fileURLToPath(new URL('../main.js', import.meta.url));
  const rest = argv.filter((a) => a !== '--json');
  const child = spawn(process.execPath, [main, 'up', ...(rest.some((a) => a === profile) ? [] : [profile]), ...rest, '--foreground'], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, CLUSTRIX_SERVICE_LOG: log, CLUSTRIX_LOG: process.env.CLUSTRIX_LOG ?? 'info' },
  });
  child.unref();
  let exited: number | null = null;
  child.on('exit', (code) => (exited = code ?? 1));
  const started = Date.now();
  if (!asJson) process.stderr.write(dim(`starting ${profile} (log: ${log})...\n`));
  while (Date.now() - started < timeoutMs) {
    const state = readState(profile);
    if (state && state.pid === child.pid) {
      if (asJson) json(shown(state));
      else out(`${green('✓')} ${profile}: ${state.agents} agents (${state.backend}) up at ${state.address}; pid ${state.pid}\n  attach: Cluster.connect({ profile: '${profile}' })   stop: clustrix down ${profile}`);
      return Exit.ok;
    }
    if (exited !== null) {
      fail(`the service for '${profile}' exited (code ${exited}) before it was ready; its output:\n${tail(log)}`);
      return Exit.failed;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  fail(`the service for '${profile}' was not ready after ${Math.round(timeoutMs / 1000)} s; stopping it. Its output:\n${tail(log)}`);
  if (child.pid) process.kill(child.pid, 'SIGTERM');
  return Exit.failed;
}

/** The state as `--json` prints it: stdout ends up in CI logs and terminals; the credential stays in the 0600 file. */
function shown(state: ServiceState): Omit<ServiceState, 'credential'> {
  const { credential: _credential, ...rest } = state;
  return rest;
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-30).map((l) => `  ${l}`).join('\n');
  } catch {
    return '  (no output)';
  }
}
