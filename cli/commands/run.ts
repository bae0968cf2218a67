import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { build } from 'esbuild';
import { parseArgs, stringFlag, UsageError } from '../args.js';
import { Exit, type Command } from '../command.js';
import { fail } from '../output.js';
import { liveServices } from './status.js';

export const run: Command = {
  name: 'run',
  summary: "run a script whose Cluster.connect() attaches to a profile's service",
  help: `Usage: clustrix run [-p profile] <file.ts|file.mjs> [args...]

Runs a script with Cluster.connect() preset to the pool of \`clustrix up <profile>\`
(CLUSTRIX_PROFILE is set for it). TypeScript is compiled with esbuild first (imports of packages
stay imports). The exit code is the script's; 3 when no service is running (nothing is run).

Options:
  -p, --profile <name>   the service to attach to (default: the one running)`,
  async run(argv) {
    const args = parseArgs(argv, { valued: ['profile'], boolean: ['help'], aliases: { p: 'profile' } }, true);
    const [file, ...rest] = args.positionals;
    if (file === undefined) throw new UsageError('run needs a script');
    const path = resolve(file);
    if (!existsSync(path)) {
      fail(`no such file: ${path}`);
      return Exit.failed;
    }
    const profile = stringFlag(args, 'profile');
    // Checked before the script runs: otherwise it starts, and dies in Cluster.connect() with a stack.
    if (!process.env.CLUSTRIX_ADDRESS) {
      const wanted = profile ?? (process.env.CLUSTRIX_PROFILE || undefined);
      if ((await liveServices(wanted)).length === 0) {
        fail(`no service is running${wanted ? ` for '${wanted}'` : ''} for the script to attach to\n  hint: start one with \`clustrix up ${wanted ?? '<profile>'}\` (or set CLUSTRIX_ADDRESS), then run it again`);
        return Exit.notRunning;
      }
    }
    let entry = path;
    let temp: string | null = null;
    if (/\.(ts|mts|cts|tsx)$/.test(path)) {
      // Next to the script, so its imports of packages and import.meta.url resolve as they would.
      temp = join(dirname(path), `.${basename(path).replace(/\.[^.]+$/, '')}.clustrix-run-${process.pid}.mjs`);
      try {
        // esbuild prints each error with its file, line and a caret (logLevel 'error'); no stack after it.
        await build({ entryPoints: [path], outfile: temp, bundle: true, packages: 'external', format: 'esm', platform: 'node', target: 'node20', sourcemap: 'inline', logLevel: 'error' });
      } catch {
        rmSync(temp, { force: true });
        fail(`${file} did not compile (esbuild's message above)`);
        return Exit.failed;
      }
      entry = temp;
    }
    const env = { ...process.env, ...(profile ? { CLUSTRIX_PROFILE: profile } : {}) };
    try {
      return await new Promise<number>((done) => {
        const child = spawn(process.execPath, ['--enable-source-maps', entry, ...rest], { stdio: 'inherit', env });
        const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
        process.on('SIGINT', forward);
        process.on('SIGTERM', forward);
        child.on('exit', (code, signal) => done(code ?? (signal === 'SIGINT' ? 130 : Exit.failed)));
      });
    } finally {
      if (temp) rmSync(temp, { force: true });
    }
  },
};
