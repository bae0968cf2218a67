/**
 * `cluster.module(url, options)`, whichever transport the Cluster uses: bundle the module, make its
 * external packages loadable where every pool's agents run (or fail now, naming them and the pool),
 * and hand back its exports as tasks. Both module() methods call this and nothing else.
 *
 * Pools whose agents run in different places (this machine, a cluster's login node) get the same
 * bundle with their own links (protocol/module-links.ts), so other source and another hash; the
 * agent link sends each agent its pool's copy (ShippedCode.byPool, AgentLink.ensureCode).
 */
import { createHash } from 'node:crypto';
import { withLinks } from '../../protocol/module-links.js';
import { makeClassRef } from '../api/actor-handle.js';
import type { TaskModule } from '../api/module.js';
import { ConfigError } from '../errors/errors.js';
import type { ShippedCode } from '../engine/task.js';
import { makeModuleFunction } from '../api/runnable.js';
import type { AgentEnvironment, PoolEnvironment } from './agent-environment.js';
import { resolveLinks } from './dependencies.js';
import { bundleModule } from './module-bundle.js';
import { resolveModuleOptions } from './module-options.js';

/**
 * @throws ConfigError for a bad option.
 * @throws ModuleBundleError (MODULE_BUNDLE_FAILED) when esbuild refuses the module.
 * @throws ModuleDependencyError (MODULE_DEPENDENCY_UNAVAILABLE) when an external package cannot reach the agents.
 */
export async function shipModule<M>(entry: string | URL, options: unknown, environments: readonly PoolEnvironment[]): Promise<TaskModule<M>> {
  const resolved = resolveModuleOptions(options);
  const bundle = await bundleModule(entry, { external: resolved.external });
  const groups = byEnvironment(environments);
  const several = environments.length > 1;
  const copies = await Promise.all(
    groups.map(async ({ environment, pools }) => {
      const source = withLinks(bundle.source, await resolveLinks(bundle, resolved, environment, several ? pools : []));
      return { pools, source, hash: source === bundle.source ? bundle.hash : createHash('sha256').update(source).digest('hex') };
    }),
  );
  const [first, ...others] = copies;
  if (!first) throw new Error('shipModule needs at least one environment');
  const byPool: Record<string, { hash: string; source: string }> = {};
  for (const copy of others) if (copy.hash !== first.hash) for (const pool of copy.pools) byPool[pool] = { hash: copy.hash, source: copy.source };
  const code: ShippedCode = { hash: first.hash, kind: 'module', source: first.source, name: bundle.path, ...(Object.keys(byPool).length > 0 ? { byPool } : {}) };
  const exportsList = bundle.exports;
  const check = (name: string): void => {
    if (!exportsList.includes(name)) throw new ConfigError(`module ${bundle.path} has no export '${name}' (exports: ${exportsList.join(', ') || 'none'})`);
  };
  return {
    hash: code.hash,
    exports: exportsList,
    fn: (name) => (check(name), makeModuleFunction(code, name)),
    cls: (name) => (check(name), makeClassRef(code, name)),
  };
}

/** The pools by where their agents run (one install and one load check per place). */
function byEnvironment(environments: readonly PoolEnvironment[]): { environment: AgentEnvironment; pools: string[] }[] {
  const groups = new Map<AgentEnvironment, string[]>();
  for (const { pool, environment } of environments) {
    const pools = groups.get(environment) ?? [];
    if (pool !== null) pools.push(pool);
    groups.set(environment, pools);
  }
  return [...groups].map(([environment, pools]) => ({ environment, pools }));
}
