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
The published package does not ship the benchmarks: run it from a clone.`,
  async run(argv) {
    const script = fileURLToPath(new URL('../../../bench/run.mjs', import.meta.url));
    if (!existsSync(script)) {
      fail(`the benchmarks are not here (${script})\n  hint: clone the clustrix repository and run \`npx clustrix bench\` there`);
      return Exit.failed;
    }
    return new Promise<number>((done) => {
      const child = spawn(process.execPath, [script, ...argv], { stdio: 'inherit' });
      child.on('exit', (code) => done(code ?? Exit.failed));
    });
  },
};
