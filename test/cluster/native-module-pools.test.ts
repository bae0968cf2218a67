// cluster.module() with a native addon on a mixed cluster (a local pool beside an ssh pool whose
// agents, testuser's, do not share the caller's node_modules): both pools' agents load the addon,
// the local ones from this machine's node_modules, the ssh ones from the install in testuser's
// cache. Before, only the first remote pool got the packages and local agents failed to import.
// Connected, a service's remote pools are not installed through the connection: module() fails
// at once saying so (README, "Limits").
import { describe, expect, it } from 'vitest';
import { ModuleDependencyError, type Cluster } from 'clustrix';
import { MODES, useCluster } from '../helpers/modes.js';
import { XXH32_OF_CLUSTRIX, installNativeFixture, nativeModuleUrl, type NativeTasks } from '../helpers/native-fixture.js';
import { skipCluster, ssh } from './cluster-env.js';

const HOME = '/home/testuser';
const options = { startTimeoutMs: 180_000, pools: { here: { agents: 1, slots: 1 }, far: { backend: 'ssh' as const, hosts: [ssh], agents: 1, slots: 1 } } };

describe.skipIf(skipCluster).each(MODES)('a native module on a local pool beside an ssh pool ($name)', (mode) => {
  let cluster!: Cluster;
  useCluster(mode, options, (c) => (cluster = c));

  if (mode.name === 'connected') {
    it("is refused at module() time: the service's remote pool is not installed through the connection", async () => {
      installNativeFixture();
      const err = await cluster.module(nativeModuleUrl).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ModuleDependencyError);
      expect((err as Error).message).toMatch(/cannot be installed where the agents of the service's local\+ssh pool \(through Cluster\.connect\) run/);
    });
    return;
  }

  it("runs in both pools, each loading the addon from where its agents are", { timeout: 240_000 }, async () => {
    const localModules = installNativeFixture();
    const tasks = await cluster.module<NativeTasks>(nativeModuleUrl);
    for (const pool of ['here', 'far']) {
      expect(await cluster.call(tasks.fn('hash'), ['clustrix'], { pool }), pool).toBe(XXH32_OF_CLUSTRIX);
      const loaded = await cluster.call(tasks.fn('loadedFrom'), [], { pool });
      expect(loaded.some((f) => f.endsWith('.node')), pool).toBe(true);
      for (const file of loaded) {
        if (pool === 'here') expect(file.startsWith(localModules), `${pool}: ${file}`).toBe(true);
        else expect(file, pool).toMatch(new RegExp(`^${HOME}/\\.clustrix/cache/npm-[0-9a-f]{64}-[^/]+/node_modules/@node-rs/`));
      }
    }
    // A map without a pool runs wherever there is room, each agent with its own copy.
    expect(await cluster.map(tasks.fn('hash'), ['clustrix', 'clustrix', 'clustrix', 'clustrix'])).toEqual(Array(4).fill(XXH32_OF_CLUSTRIX));
  });
});
