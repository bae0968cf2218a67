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
});
copyFileSync('web/index.html', 'dist/web/index.html');
const uplotCss = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
writeFileSync('dist/web/app.css', `${uplotCss}\n${readFileSync('web/style.css', 'utf8')}`);
