import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Exit, type Command } from '../command.js';
import { fail } from '../output.js';

export const bench: Command = {
  name: 'bench',
  summary: 'run the benchmarks (from a source checkout)',
  help: `Usage: clustrix bench [args...]

Runs bench/run.mjs of the clustrix source tree (round trip, throughput, fan-out, broadcast, cold
start, large values, memory, actors, SLURM), passing the arguments through; see bench/README.md.
It runs only from a source checkout: the npm package does not ship the benchmarks (they
compare against dev dependencies such as piscina and tinypool, and Debian's Dask). In a clone:
npm ci && npx clustrix bench`,
  async run(argv) {
    const script = fileURLToPath(new URL('../../../bench/run.mjs', import.meta.url));
    if (!existsSync(script)) {
      fail(
        '`bench` runs only from a source checkout of clustrix: the npm package does not ship the benchmarks' +
          `\n  (looked for ${script})\n  hint: in a clone of the repository, run \`npm ci && npx clustrix bench\``,
      );
      return Exit.failed;
    }
    return new Promise<number>((done) => {
      const child = spawn(process.execPath, [script, ...argv], { stdio: 'inherit' });
      child.on('exit', (code) => done(code ?? Exit.failed));
    });
  },
};
