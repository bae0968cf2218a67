import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { configTemplate, PROJECT_CONFIG_NAME } from '../../coordinator/config/index.js';
import { configDir } from '../../coordinator/service/state-file.js';
import { parseArgs, stringFlag } from '../args.js';
import { Exit, type Command } from '../command.js';
import { fail, green, json, out } from '../output.js';

export const init: Command = {
  name: 'init',
  summary: 'write a commented config file with a profile per backend',
  help: `Usage: clustrix init [--project | --path <file>] [--force] [--json]

Writes a commented config with one profile per backend (local, ssh, slurm, pbs, sge,
kubernetes) to ~/.config/clustrix/config.yaml ($XDG_CONFIG_HOME/clustrix/config.yaml).
It asks nothing: edit the file, then \`clustrix check <profile>\`.

Options:
  --project       write ./${PROJECT_CONFIG_NAME} instead (found first, from this directory)
  --path <file>   write this file instead
  --force         replace an existing file`,
  run(argv) {
    const args = parseArgs(argv, { valued: ['path'], boolean: ['project', 'force', 'json', 'help'] });
    const path = stringFlag(args, 'path') ? resolve(stringFlag(args, 'path')!) : args.flags.has('project') ? resolve(PROJECT_CONFIG_NAME) : join(configDir(), 'config.yaml');
    if (existsSync(path) && !args.flags.has('force')) {
      fail(`${path} exists; not replacing it\n  hint: edit it, or pass --force to start again from the template`);
      return Promise.resolve(Exit.failed);
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, configTemplate(), { mode: 0o600 });
    if (args.flags.has('json')) json({ path });
    else out(`${green('✓')} wrote ${path}\n  next: edit a profile's ssh host, then \`clustrix check <profile>\` and \`clustrix up <profile>\``);
    return Promise.resolve(Exit.ok);
  },
};
