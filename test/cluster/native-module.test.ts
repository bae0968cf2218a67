// cluster.module() with a native addon on agents that do not share the caller's node_modules: the
// ssh and slurm backends install the project's lockfile in testuser's ~/.clustrix/cache (npm ci,
// once per lockfile and Node ABI) and the agents load the addon from there.
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, ModuleDependencyError, type ClusterOptions } from 'clustrix';
import { XXH32_OF_CLUSTRIX, installNativeFixture, nativeModuleUrl, nativeProjectDir, type NativeTasks } from '../helpers/native-fixture.js';
import { asTestUser, loginSsh, skipCluster, ssh } from './cluster-env.js';

const HOME = '/home/testuser';

const backends: { name: string; options: ClusterOptions }[] = [
  { name: 'ssh', options: { backend: 'ssh', hosts: [ssh], slots: 1 } },
  { name: 'slurm', options: { backend: 'slurm', ssh: loginSsh, slots: 1, resources: { cpusPerTask: 1, time: '00:10:00' } } },
];

let localNodeModules: string;
beforeAll(() => {
  localNodeModules = installNativeFixture();
  // A real install each run (the ssh case), then the slurm case finds it done.
  if (!skipCluster) asTestUser('rm -rf ~/.clustrix/cache/npm-*');
});

for (const backend of backends) {
  describe.skipIf(skipCluster)(`a module importing a prebuilt native addon, ${backend.name} backend`, () => {
    let cluster: Cluster;
    beforeAll(async () => {
      cluster = await Cluster.start({ agents: 1, startTimeoutMs: 180_000, ...backend.options });
    });
    afterAll(async () => {
      await cluster?.close();
    });

    it("runs, loading the addon from the cluster's own install of the lockfile, not the caller's node_modules", async () => {
      const tasks = await cluster.module<NativeTasks>(nativeModuleUrl);
      expect(await cluster.run(tasks.fn('hash'), 'clustrix')).toBe(XXH32_OF_CLUSTRIX);
      const loaded = await cluster.run(tasks.fn('loadedFrom'));
      expect(loaded.some((f) => f.endsWith('.node'))).toBe(true);
      for (const file of loaded) {
        expect(file).toMatch(new RegExp(`^${HOME}/\\.clustrix/cache/npm-[0-9a-f]{64}-[^/]+/node_modules/@node-rs/`));
        expect(file.startsWith(localNodeModules)).toBe(false);
      }
      // The install is complete and marked, as testuser sees it.
      const installDir = loaded[0]!.split('/node_modules/')[0]!;
      expect(asTestUser(`test -f '${installDir}/.clustrix-installed' && echo yes`).trim()).toBe('yes');
    });

    it('fails at module() time with npm ci output when the install on the cluster fails', async () => {
      // package.json asks for a package its lockfile lacks: npm ci refuses before fetching anything.
      const project = await mkdtemp(join(tmpdir(), 'clustrix-broken-project-'));
      try {
        await cp(join(nativeProjectDir, 'package-lock.json'), join(project, 'package-lock.json'));
        const pkg = JSON.parse(await readFile(join(nativeProjectDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
        pkg.dependencies['left-pad'] = '1.3.0';
        await writeFile(join(project, 'package.json'), JSON.stringify(pkg));
        const err = await cluster.module(nativeModuleUrl, { packageDir: project }).then(
          () => new Error('module() resolved'),
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(ModuleDependencyError);
        expect((err as ModuleDependencyError).code).toBe('MODULE_DEPENDENCY_UNAVAILABLE');
        expect((err as Error).message).toMatch(/npm ci --omit=dev of package-lock\.json failed on testuser@/);
        expect((err as ModuleDependencyError).output).toMatch(/left-pad/);
      } finally {
        await rm(project, { recursive: true, force: true });
      }
    });

    it('fails at module() time when there is no lockfile to install from', async () => {
      const project = await mkdtemp(join(tmpdir(), 'clustrix-no-lockfile-'));
      try {
        await writeFile(join(project, 'package.json'), '{"name":"x"}');
        const err = await cluster.module(nativeModuleUrl, { packageDir: project }).then(
          () => new Error('module() resolved'),
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(ModuleDependencyError);
        expect((err as Error).message).toContain('@node-rs/xxhash must be installed on the cluster, and there is no package.json with a package-lock.json in packageDir');
      } finally {
        await rm(project, { recursive: true, force: true });
      }
    });
  });
}
