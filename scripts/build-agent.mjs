// Bundles the agent into ONE file that needs only `node` on a cluster node (no node_modules, no
// npm install). The worker threads' code is bundled separately (small: no ws, no zod) and embedded
// in the agent as a string, so each thread starts fast. The agent itself is embedded as a string in
// a small entry (agent/boot.ts) that compiles it with V8's code cache: appended as comment lines
// after a marker (boot.ts's CORE_MARKER), which boot reads back from its own file.
// The file is CommonJS (agent.cjs): Node 20 sets up its ESM loader (about twenty more internal
// modules) for an .mjs entry, which was ~4 ms of every agent's start (issue 16). agent.mjs stays,
// as a two-line ESM entry that loads agent.cjs beside it, for whoever starts it by that name.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

mkdirSync('dist/bundle', { recursive: true });
const common = { bundle: true, platform: 'node', target: 'node20', minify: true, legalComments: 'none', logLevel: 'warning' };
// msgpackr's optional native extension cannot be bundled, and an agent on a cluster node never has
// it: the bundle runs msgpackr in pure JS everywhere, so a local agent does not spend ~10 ms of its
// start finding and loading a native module either (agent start profile, issue 16).
// ws's optional addons likewise: on Node 20 ws's buffer-util requires `bufferutil` (http has no
// websocketMask there) inside a try, and the failed lookup walked node_modules and package.json
// files at every start (~0.5 ms). The stub throws as a missing package does: ws keeps its JS mask.
const NOT_BUNDLED = { 'msgpackr-extract': 'module.exports = null;', bufferutil: "throw new Error('bufferutil is not bundled');", 'utf-8-validate': "throw new Error('utf-8-validate is not bundled');" };
const noNativeAddons = {
  name: 'no-native-addons',
  setup(b) {
    b.onResolve({ filter: /^(msgpackr-extract|bufferutil|utf-8-validate)$/ }, (args) => ({ path: args.path, namespace: 'no-native' }));
    b.onLoad({ filter: /.*/, namespace: 'no-native' }, (args) => ({ contents: NOT_BUNDLED[args.path], loader: 'js' }));
  },
};
// zod's `z.locales` namespace holds its error messages in ~50 languages (a quarter of the bundle's
// bytes, read and deserialised at each start); an agent words errors in English only, zod's default.
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic[\\/]external|core[\\/]index)\.js$/.test(args.importer) ? { path: join(dirname(args.importer), '../locales'), namespace: 'zod-en' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-en' }, (args) => ({ contents: "export { default as en } from './en.js';", resolveDir: args.path, loader: 'js' }));
  },
};
// ws requires https and tls (websocket.js) and zlib (permessage-deflate.js) at its top level; an
// agent dialling ws:// with compression off uses none of them, and loading them was ~1.5 ms of its
// start. Each becomes a proxy that requires the builtin at its first use (wss://, a deflate).
const LAZY_WS_BUILTINS = { 'websocket.js': ['https', 'tls'], 'permessage-deflate.js': ['zlib'] };
const wsLazyBuiltins = {
  name: 'ws-lazy-builtins',
  setup(b) {
    b.onLoad({ filter: /[\\/]ws[\\/]lib[\\/](websocket|permessage-deflate)\.js$/ }, async (args) => {
      let text = await readFile(args.path, 'utf8');
      for (const name of LAZY_WS_BUILTINS[args.path.split(/[\\/]/).pop()]) {
        const line = `const ${name} = require('${name}');`;
        // A ws release that words it differently fails the build rather than loading eagerly unnoticed.
        if (!text.includes(line)) throw new Error(`${args.path} no longer has the line ${line}: update ws-lazy-builtins in scripts/build-agent.mjs`);
        text = text.replace(line, `const ${name} = new Proxy({}, { get: (_, key) => require('${name}')[key] });`);
      }
      return { contents: text, loader: 'js' };
    });
  },
};
const plugins = [noNativeAddons, zodEnglishOnly, wsLazyBuiltins];

const worker = await build({ ...common, entryPoints: ['agent/worker-main.ts'], format: 'cjs', write: false, plugins });

const core = await build({
  ...common,
  entryPoints: ['agent/main.ts'],
  format: 'iife',
  write: false,
  plugins,
  // boot.ts runs this as a function of (require, __clustrixHost): import.meta is boot's.
  define: { __CLUSTRIX_WORKER_SOURCE__: JSON.stringify(worker.outputFiles[0].text), 'import.meta.url': '__clustrixHost.url' },
});
const source = core.outputFiles[0].text;

const BUNDLE = 'dist/bundle/agent.cjs';
await build({
  ...common,
  entryPoints: ['agent/boot.ts'],
  outfile: BUNDLE,
  format: 'cjs',
  // boot.ts is an ES module (import.meta.url); as CommonJS its URL comes from __filename.
  banner: { js: '"use strict";var __clustrixBootUrl=require("node:url").pathToFileURL(__filename).href;' },
  define: {
    'import.meta.url': '__clustrixBootUrl',
    __CLUSTRIX_CORE_HASH__: JSON.stringify(createHash('sha256').update(source).digest('hex')),
  },
});
appendFileSync(BUNDLE, `\n//# clustrix-agent-core\n${source.split('\n').map((line) => `//${line}`).join('\n')}`);
// agent/boot.ts reads the bundle as latin1, which is exact only for ASCII (esbuild's default charset).
if (!/^[\x00-\x7f]*$/.test(readFileSync(BUNDLE, 'latin1'))) throw new Error(`${BUNDLE} is not ASCII: agent/boot.ts reads it as latin1`);
// require(), not import: an ESM import of a CommonJS file scans all of it for named exports first.
writeFileSync(
  'dist/bundle/agent.mjs',
  "// The agent is agent.cjs beside this file (one file to copy to a node); this entry only loads it.\nimport { createRequire } from 'node:module';\ncreateRequire(import.meta.url)('./agent.cjs');\n",
);
