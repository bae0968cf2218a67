// cluster.module() checks, before any task is sent, that every package it keeps out of the bundle
// loads where the agents run; its options are checked with messages naming them.
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, ConfigError, ModuleDependencyError } from 'clustrix';
import { MODES, type ClusterHandle } from '../helpers/modes.js';

describe.each(MODES)('$name', (mode) => {
  let cluster: Cluster;
  let handle: ClusterHandle | undefined;
  let project: string;

  /** A project whose node_modules holds `fake-addon`: a gypfile package whose binary was never built. */
  async function writeProject(dir: string): Promise<void> {
    await cp(new URL('../fixtures/code/uses-addon.mjs', import.meta.url), join(dir, 'uses-addon.mjs'));
    await writeFile(join(dir, 'package.json'), '{"name":"p","type":"module"}');
    const pkg = join(dir, 'node_modules', 'fake-addon');
    await mkdir(pkg, { recursive: true });
    await writeFile(join(pkg, 'package.json'), '{"name":"fake-addon","version":"1.0.0","gypfile":true,"main":"index.js"}');
    // What node-gyp-build says when an install script was held back (npm 11) or failed.
    await writeFile(join(pkg, 'index.js'), "throw new Error('No native build was found for platform=linux arch=x64 runtime=node abi=115');\n");
  }

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), 'clustrix-deps-'));
    await writeProject(project);
    handle = await mode.start({ agents: 1, slots: 1 });
    cluster = handle.cluster;
  });
  afterAll(async () => {
    await handle?.close();
    await rm(project, { recursive: true, force: true });
  });

  async function rejection(promise: Promise<unknown>): Promise<Error> {
    return promise.then(
      () => new Error('expected a rejection'),
      (e: unknown) => e as Error,
    );
  }

  describe('an external package that cannot load on the agents', () => {
    it('fails module() with MODULE_DEPENDENCY_UNAVAILABLE and the load error, for a native addon whose binary is missing', async () => {
      const err = await rejection(cluster.module(join(project, 'uses-addon.mjs')));
      expect(err).toBeInstanceOf(ModuleDependencyError);
      expect((err as ModuleDependencyError).code).toBe('MODULE_DEPENDENCY_UNAVAILABLE');
      expect((err as ModuleDependencyError).packages).toEqual(['fake-addon']);
      expect(err.message).toContain('fake-addon does not load on this machine');
      expect((err as ModuleDependencyError).output).toContain('No native build was found');
    });

    it('fails module() naming a package listed in external that is not installed', async () => {
      const file = join(project, 'uses-missing.mjs');
      await writeFile(file, "import x from 'not-installed-anywhere';\nexport const f = () => x;\n");
      const err = await rejection(cluster.module(file, { external: ['not-installed-anywhere'] }));
      expect(err).toBeInstanceOf(ModuleDependencyError);
      expect(err.message).toContain('not-installed-anywhere (named in external) is not installed on this machine');
      expect(err.message).toContain('npm install not-installed-anywhere');
    });
  });

  describe('module options', () => {
    const entry = new URL('../fixtures/core/tasks.ts', import.meta.url);
    it.each([
      [{ external: 'pg' }, "cluster.module option 'external' must be an array of package names, got \"pg\""],
      [{ external: [''] }, "cluster.module option 'external[0]' must be a non-empty package name"],
      [{ external: ['./local.js'] }, "cluster.module option 'external[0]' must name a package, not a path"],
      [{ install: 'always' }, "cluster.module option 'install' must be 'auto' or 'never', got \"always\""],
      [{ packageDir: 3 }, "cluster.module option 'packageDir' must be a path or a file: URL, got number"],
      [{ externals: [] }, "cluster.module has no option 'externals' (options: external, install, packageDir)"],
    ])('%j is refused with a ConfigError naming the option', async (options, message) => {
      const err = await rejection(cluster.module(entry, options as never));
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toContain(message);
    });
  });
});
