// Bundles the dashboard page (web/) with its dependencies (preact, htm, uPlot, msgpackr, zod) into
// dist/web: the coordinator serves these three files; no CDN, nothing fetched at run time.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
mkdirSync('dist/web', { recursive: true });
await build({
  entryPoints: ['web/main.ts'],
  outfile: 'dist/web/app.js',
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  // The coordinator's frames carry msgpack records, which msgpackr reads through `new Function`
  // once a shape repeats: the page's CSP forbids that (and the browser logs every refusal), so
  // the page gets msgpackr's build without eval.
  alias: { msgpackr: 'msgpackr/index-no-eval' },
});
copyFileSync('web/index.html', 'dist/web/index.html');
const uplotCss = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
writeFileSync('dist/web/app.css', `${uplotCss}\n${readFileSync('web/style.css', 'utf8')}`);
