// Bundles the agent (and its worker-thread entry, the same file) into one ESM file that needs only
// `node` on a cluster node: no node_modules, no npm install.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';

mkdirSync('dist/bundle', { recursive: true });
await build({
  entryPoints: ['agent/main.ts'],
  outfile: 'dist/bundle/agent.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  legalComments: 'none',
  // msgpackr's optional native extension cannot be bundled; it falls back to pure JS without it.
  external: ['msgpackr-extract'],
  banner: { js: "import { createRequire as __clustrixCreateRequire } from 'node:module'; const require = __clustrixCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
