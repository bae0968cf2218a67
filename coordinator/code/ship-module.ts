/**
 * `cluster.module(url, options)`, whichever transport the Cluster uses: bundle the module, make its
 * external packages loadable where the agents run (or fail now, naming them), and hand back its
 * exports as tasks. Both module() methods call this and nothing else.
 */
import { createHash } from 'node:crypto';
import { withLinks } from '../../protocol/module-links.js';
import { makeClassRef } from '../api/actor-handle.js';
import type { TaskModule } from '../api/module.js';
import { ConfigError } from '../errors/errors.js';
import type { ShippedCode } from '../engine/task.js';
import { makeModuleFunction } from '../api/runnable.js';
import type { AgentEnvironment } from './agent-environment.js';
import { resolveLinks } from './dependencies.js';
import { bundleModule } from './module-bundle.js';
import { resolveModuleOptions } from './module-options.js';

/**
 * @throws ConfigError for a bad option.
 * @throws ModuleBundleError (MODULE_BUNDLE_FAILED) when esbuild refuses the module.
 * @throws ModuleDependencyError (MODULE_DEPENDENCY_UNAVAILABLE) when an external package cannot reach the agents.
 */
export async function shipModule<M>(entry: string | URL, options: unknown, environment: AgentEnvironment): Promise<TaskModule<M>> {
  const resolved = resolveModuleOptions(options);
  const bundle = await bundleModule(entry, { external: resolved.external });
  const links = await resolveLinks(bundle, resolved, environment);
  const source = withLinks(bundle.source, links);
  const hash = source === bundle.source ? bundle.hash : createHash('sha256').update(source).digest('hex');
  const code: ShippedCode = { hash, kind: 'module', source, name: bundle.path };
  const exportsList = bundle.exports;
  const check = (name: string): void => {
    if (!exportsList.includes(name)) throw new ConfigError(`module ${bundle.path} has no export '${name}' (exports: ${exportsList.join(', ') || 'none'})`);
  };
  return {
    hash,
    exports: exportsList,
    fn: (name) => (check(name), makeModuleFunction(code, name)),
    cls: (name) => (check(name), makeClassRef(code, name)),
  };
}
