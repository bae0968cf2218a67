// Bundles the agent into ONE file that needs only `node` on a cluster node (no node_modules, no
// npm install). The worker threads' code is bundled separately (small: no ws, no zod) and embedded
// in the agent as a string, so each thread starts fast. The agent itself is embedded as a string in
// a small entry (agent/boot.ts) that compiles it with V8's code cache: appended as comment lines
// after a marker (boot.ts's CORE_MARKER), which boot reads back from its own file.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';

mkdirSync('dist/bundle', { recursive: true });
const common = { bundle: true, platform: 'node', target: 'node20', minify: true, legalComments: 'none', logLevel: 'warning' };
// msgpackr's optional native extension cannot be bundled; it works in pure JS without it.
const external = ['msgpackr-extract'];

const worker = await build({ ...common, entryPoints: ['agent/worker-main.ts'], format: 'cjs', write: false, external });

const core = await build({
  ...common,
  entryPoints: ['agent/main.ts'],
  format: 'iife',
  write: false,
  external,
  // boot.ts runs this as a function of (require, __clustrixHost): import.meta is boot's.
  define: { __CLUSTRIX_WORKER_SOURCE__: JSON.stringify(worker.outputFiles[0].text), 'import.meta.url': '__clustrixHost.url' },
});
const source = core.outputFiles[0].text;

await build({
  ...common,
  entryPoints: ['agent/boot.ts'],
  outfile: 'dist/bundle/agent.mjs',
  format: 'esm',
  define: {
    __CLUSTRIX_CORE_HASH__: JSON.stringify(createHash('sha256').update(source).digest('hex')),
  },
});
appendFileSync('dist/bundle/agent.mjs', `\n//# clustrix-agent-core\n${source.split('\n').map((line) => `//${line}`).join('\n')}`);
