#!/usr/bin/env node
/**
 * `clustrix <command>`: warm pools that outlive a program. Each command lives in cli/commands/;
 * this file dispatches, prints help, and turns errors into exit codes.
 */
import { ClustrixError } from '../coordinator/errors/errors.js';
import { UsageError } from './args.js';
import { Exit, type Command } from './command.js';
import { actors } from './commands/actors.js';
import { bench } from './commands/bench.js';
import { check } from './commands/check.js';
import { dashboard } from './commands/dashboard.js';
import { down } from './commands/down.js';
import { init } from './commands/init.js';
import { jobs } from './commands/jobs.js';
import { logs } from './commands/logs.js';
import { run } from './commands/run.js';
import { status } from './commands/status.js';
import { tasks } from './commands/tasks.js';
import { up } from './commands/up.js';
import { cliWords, fail, out } from './output.js';

const COMMANDS: readonly Command[] = [init, check, up, down, status, jobs, tasks, dashboard, logs, actors, run, bench];

function mainHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: clustrix <command> [options]      (clustrix <command> --help for each)

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Exit codes: 0 ok, 1 failed, 2 wrong command line, 3 no service running for the profile.
Environment: CLUSTRIX_LOG=error|warn|info|debug (the coordinator's own messages), NO_COLOR.`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    out(mainHelp());
    return name === undefined ? Exit.usage : Exit.ok;
  }
  if (name === '--version') {
    const { createRequire } = await import('node:module');
    out((createRequire(import.meta.url)('../../package.json') as { version: string }).version);
    return Exit.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    fail(`unknown command '${name}'`);
    process.stderr.write(`${mainHelp()}\n`);
    return Exit.usage;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    out(command.help);
    return Exit.ok;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      fail(err.message);
      process.stderr.write(`${command.help}\n`);
      return Exit.usage;
    }
    if (err instanceof ClustrixError) {
      fail(cliWords(`${err.message}${err.code ? ` [${err.code}]` : ''}`));
      return Exit.failed;
    }
    fail(err instanceof Error ? (err.stack ?? err.message) : String(err));
    return Exit.failed;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Open handles (an SSH pool, timers) must not keep a finished command alive.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    fail(String(err));
    process.exit(Exit.failed);
  },
);
