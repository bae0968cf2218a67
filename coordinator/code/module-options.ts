/**
 * The options of `cluster.module(url, options)`, and their one check.
 */
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors/errors.js';

export interface ModuleOptions {
  /**
   * Packages to keep out of the bundle besides the native addons found on their own: the agents
   * load them from an installed copy (see `install`). esbuild's syntax: `'pg'`, `'@aws-sdk/*'`.
   * @default []
   */
  external?: string[];
  /**
   * How external packages reach agents that do not share this machine's files (ssh, slurm, pbs,
   * sge): `'auto'` runs `npm ci --omit=dev` from the project's package.json and lockfile once per
   * lockfile (and Node ABI) in the cluster's cache, `<remoteDir>/cache/npm-<hash>-<abi>/`;
   * `'never'` installs nothing: the agents see this machine's node_modules at the same paths (a
   * shared filesystem) or have the packages where their image put them. Local agents always use
   * this machine's node_modules.
   * @default 'auto'
   */
  install?: 'auto' | 'never';
  /**
   * The project directory: where package.json and package-lock.json (or npm-shrinkwrap.json) are.
   * Only a remote install reads it. A path or a file: URL.
   * @default the nearest directory above the module that has a lockfile
   */
  packageDir?: string | URL;
}

export interface ResolvedModuleOptions {
  external: string[];
  install: 'auto' | 'never';
  /** Absolute; undefined: search up from the module. */
  packageDir: string | undefined;
}

const KNOWN = new Set(['external', 'install', 'packageDir']);

/** @throws ConfigError naming the option and what it allows. */
export function resolveModuleOptions(options: unknown): ResolvedModuleOptions {
  if (options === undefined) return { external: [], install: 'auto', packageDir: undefined };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new ConfigError(`cluster.module options must be an object, got ${describe(options)}`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) throw new ConfigError(`cluster.module has no option '${key}' (options: ${[...KNOWN].join(', ')})`);
  }
  return { external: external(o.external), install: install(o.install), packageDir: packageDir(o.packageDir) };
}

function external(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ConfigError(`cluster.module option 'external' must be an array of package names, got ${describe(value)}`);
  return value.map((item, i) => {
    if (typeof item !== 'string' || item.trim() === '') {
      throw new ConfigError(`cluster.module option 'external[${i}]' must be a non-empty package name (or esbuild pattern like '@aws-sdk/*'), got ${describe(item)}`);
    }
    if (item.startsWith('.') || item.startsWith('/')) {
      throw new ConfigError(`cluster.module option 'external[${i}]' must name a package, not a path: ${JSON.stringify(item)}`, {
        hint: 'your own files are always bundled; list packages from node_modules here',
      });
    }
    return item;
  });
}

function install(value: unknown): 'auto' | 'never' {
  if (value === undefined) return 'auto';
  if (value === 'auto' || value === 'never') return value;
  throw new ConfigError(`cluster.module option 'install' must be 'auto' or 'never', got ${describe(value)}`);
}

function packageDir(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (value instanceof URL) {
    if (value.protocol !== 'file:') throw new ConfigError(`cluster.module option 'packageDir' must be a path or a file: URL, got ${value.href}`);
    return fileURLToPath(value);
  }
  if (typeof value !== 'string' || value === '') throw new ConfigError(`cluster.module option 'packageDir' must be a path or a file: URL, got ${describe(value)}`);
  if (value.startsWith('file:')) return packageDir(new URL(value));
  return isAbsolute(value) ? value : resolve(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? JSON.stringify(value) : typeof value;
}
