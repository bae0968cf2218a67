// Bundles the agent into ONE file that needs only `node` on a cluster node (no node_modules, no
// npm install). The worker threads' code is bundled separately (small: no ws, no zod) and embedded
// in agent.mjs as a string, so each thread starts fast.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';

mkdirSync('dist/bundle', { recursive: true });
const common = { bundle: true, platform: 'node', target: 'node20', minify: true, legalComments: 'none', logLevel: 'warning' };

const worker = await build({
  ...common,
  entryPoints: ['agent/worker-main.ts'],
  format: 'cjs',
  write: false,
  // msgpackr's optional native extension cannot be bundled; it works in pure JS without it.
  external: ['msgpackr-extract'],
});

await build({
  ...common,
  entryPoints: ['agent/main.ts'],
  outfile: 'dist/bundle/agent.mjs',
  format: 'esm',
  external: ['msgpackr-extract'],
  define: { __CLUSTRIX_WORKER_SOURCE__: JSON.stringify(worker.outputFiles[0].text) },
  banner: { js: "import { createRequire as __clustrixCreateRequire } from 'node:module'; const require = __clustrixCreateRequire(import.meta.url);" },
});
