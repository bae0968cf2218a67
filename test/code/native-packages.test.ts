// Which packages bundleModule keeps external: native addons by any of their signs, and what the
// caller names; everything else is bundled.
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleModule } from '../../coordinator/code/index.js';
import { installNativeFixture, nativeModuleUrl } from '../helpers/native-fixture.js';

let dir: string;

/** A package in the temp project's node_modules: its package.json fields and extra files. */
function pkg(name: string, fields: Record<string, unknown>, files: Record<string, string> = {}): void {
  const root = join(dir, 'node_modules', name);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name, version: '1.0.0', main: 'index.js', ...fields }));
  writeFileSync(join(root, 'index.js'), 'module.exports = { ok: true };\n');
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(join(root, file, '..'), { recursive: true });
    writeFileSync(join(root, file), text);
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'clustrix-native-'));
  pkg('gyp-addon', { gypfile: true });
  pkg('gyp-build-user', { dependencies: { 'node-gyp-build': '^4' } });
  pkg('pregyp-addon', { binary: { module_name: 'x' } });
  pkg('prebuilt-addon', {}, { 'prebuilds/linux-x64/node.napi.node': 'binary' });
  pkg('plain-js', { dependencies: { 'left-pad': '1' } });
  pkg('named-external', {});
  writeFileSync(
    join(dir, 'entry.mjs'),
    ['gyp-addon', 'gyp-build-user', 'pregyp-addon', 'prebuilt-addon', 'plain-js', 'named-external'].map((n, i) => `import m${i} from '${n}';`).join('\n') +
      '\nexport const all = () => [m0, m1, m2, m3, m4, m5];\n',
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bundleModule externals', () => {
  it('keeps native addons (gypfile, addon helpers, binary field, .node files) and named packages out; bundles plain JavaScript', async () => {
    const bundled = await bundleModule(join(dir, 'entry.mjs'), { external: ['named-external'] });
    expect(bundled.externals.map((p) => [p.name, p.reason])).toEqual([
      ['gyp-addon', 'its package.json has gypfile: true'],
      ['gyp-build-user', 'it depends on node-gyp-build'],
      ['named-external', 'named in external'],
      ['prebuilt-addon', 'it ships node.napi.node'],
      ['pregyp-addon', 'its package.json has a binary field (node-pre-gyp)'],
    ]);
    expect(bundled.externals.every((p) => p.dir === join(dir, 'node_modules', p.name))).toBe(true);
    expect(bundled.source).toMatch(/from "gyp-addon"/);
    expect(bundled.source).not.toMatch(/from "plain-js"/); // bundled
  });

  it('keeps a napi-rs package whose binary is a per-platform optional dependency (@node-rs/xxhash) out, where esbuild alone fails', async () => {
    installNativeFixture();
    const bundled = await bundleModule(nativeModuleUrl);
    expect(bundled.externals.map((p) => p.name)).toEqual(['@node-rs/xxhash']);
    expect(bundled.externals[0]?.reason).toBe('its package.json has a napi field (napi-rs)');
  });

  it('carries an inline source map whose sources are absolute file: URLs', async () => {
    const bundled = await bundleModule(new URL('../fixtures/code/throws.ts', import.meta.url));
    const m = /\n\/\/# sourceMappingURL=data:application\/json;base64,([A-Za-z0-9+/=]+)\n$/.exec(bundled.source);
    expect(m).not.toBeNull();
    const map = JSON.parse(Buffer.from(m![1]!, 'base64').toString('utf8')) as { sources: string[] };
    expect(map.sources.sort()).toEqual([
      new URL('../fixtures/code/throws-helper.ts', import.meta.url).href,
      new URL('../fixtures/code/throws.ts', import.meta.url).href,
    ]);
  });
});
