/**
 * Makes a bundle's external packages loadable where the agents run, or says at `module()` time
 * why not (ModuleDependencyError, code MODULE_DEPENDENCY_UNAVAILABLE):
 *
 * - local agents (and `install: 'never'`): each package's directory on this machine, as Node finds
 *   it from the file that imports it; it must exist, and (local agents) load in a probe process;
 * - remote agents: `npm ci --omit=dev` of the project's package.json + lockfile in the cluster's
 *   cache (AgentEnvironment.install), each package at the path the lockfile gives it, loaded once
 *   there by the agents' node before any task is sent.
 *
 * The result is the bundle's links (protocol/module-links.ts): package name → directory.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { ModuleLinks } from '../../protocol/module-links.js';
import { ModuleDependencyError } from '../errors/errors.js';
import type { AgentEnvironment, ProbeFailure, ProjectFiles } from './agent-environment.js';
import type { BundledModule, ExternalPackage } from './module-bundle.js';
import type { ResolvedModuleOptions } from './module-options.js';

const LOCKFILES = ['npm-shrinkwrap.json', 'package-lock.json'];

const resolved = new WeakMap<AgentEnvironment, Map<string, Promise<ModuleLinks>>>();

/**
 * The links for `bundle` on `environment`; the same work is done once per environment. `pools`
 * (of a cluster with several) are named in errors: which pools' agents cannot have the packages.
 */
export function resolveLinks(bundle: BundledModule, options: ResolvedModuleOptions, environment: AgentEnvironment, pools: readonly string[] = []): Promise<ModuleLinks> {
  if (bundle.externals.length === 0) return Promise.resolve({});
  let byKey = resolved.get(environment);
  if (!byKey) resolved.set(environment, (byKey = new Map()));
  const key = JSON.stringify([bundle.hash, options.install, options.packageDir ?? null, pools]);
  let links = byKey.get(key);
  if (!links) {
    links = compute(bundle, options, environment, pools.length === 0 ? '' : ` (pool${pools.length === 1 ? '' : 's'} ${pools.join(', ')})`);
    links.catch(() => byKey.delete(key)); // fixed by installing something: the next call looks again
    byKey.set(key, links);
  }
  return links;
}

async function compute(bundle: BundledModule, options: ResolvedModuleOptions, env: AgentEnvironment, pools: string): Promise<ModuleLinks> {
  const externals = bundle.externals;
  if (env.local || options.install === 'never') {
    const missing = externals.filter((p) => p.dir === undefined);
    if (missing.length > 0) {
      throw new ModuleDependencyError(`${list(missing)} ${missing.length === 1 ? 'is' : 'are'} not installed on this machine${pools} (imported by ${missing[0]!.importer})`, {
        packages: missing.map((p) => p.name),
        hint: `install ${missing.length === 1 ? 'it' : 'them'} in the project (npm install ${missing.map((p) => p.name).join(' ')}), or remove ${missing.length === 1 ? 'it' : 'them'} from \`external\``,
      });
    }
    const links = Object.fromEntries(externals.map((p) => [p.name, p.dir!]));
    await check(env, links, env.local ? `on this machine${pools}` : `on ${env.description}${pools}, which was to see this machine's files at the same paths (install: 'never')`);
    return links;
  }
  if (!env.install) {
    throw new ModuleDependencyError(`${list(externals)} cannot be installed where the agents of ${env.description}${pools} run`, {
      packages: externals.map((p) => p.name),
      hint: "put the packages into the agents' image at the paths they have here and pass install: 'never', or bundle a pure-JavaScript alternative",
    });
  }
  const project = readProject(options.packageDir, bundle.path, externals);
  const paths = lockfilePaths(project, externals);
  const installDir = await env.install(project);
  const links = Object.fromEntries(externals.map((p) => [p.name, `${installDir}/${paths.get(p.name)!}`]));
  await check(env, links, `on ${env.description}${pools} (installed in ${installDir} from ${join(project.dir, project.lockfileName)})`);
  return links;
}

/** Loads every linked package with the agents' node, grouped by the node_modules that holds it. */
async function check(env: AgentEnvironment, links: ModuleLinks, where: string): Promise<void> {
  if (!env.probe) return;
  const groups = new Map<string, string[]>();
  for (const [name, dir] of Object.entries(links)) {
    const base = baseOf(dir, name);
    groups.set(base, [...(groups.get(base) ?? []), name]);
  }
  const failures: ProbeFailure[] = (await Promise.all([...groups].map(([base, names]) => env.probe!(base, names)))).flat();
  if (failures.length === 0) return;
  const names = failures.map((f) => f.name);
  throw new ModuleDependencyError(`${names.join(', ')} ${names.length === 1 ? 'does' : 'do'} not load ${where}`, {
    packages: names,
    output: failures.map((f) => `${f.name}: ${f.message}`).join('\n'),
    hint:
      'a native addon needs its binary built or downloaded for that Node.js: reinstall it (npm rebuild <name>; npm 11 holds back install scripts until they are approved), ' +
      'or pick a version that supports this Node.js',
  });
}

/** `/p/node_modules/@s/n` → `/p`: where a bare import of `@s/n` finds exactly that directory. */
function baseOf(dir: string, name: string): string {
  const suffix = `/node_modules/${name}`;
  return dir.endsWith(suffix) ? dir.slice(0, -suffix.length) || '/' : dirname(dir);
}

function readProject(explicit: string | undefined, entry: string, externals: readonly ExternalPackage[]): ProjectFiles {
  const packages = externals.map((p) => p.name);
  const dir = explicit ?? findUp(dirname(entry));
  const lockfileName = dir === undefined ? undefined : LOCKFILES.find((name) => existsSync(join(dir, name)));
  if (dir === undefined || lockfileName === undefined || !existsSync(join(dir, 'package.json'))) {
    const where = explicit === undefined ? `in ${dirname(entry)} or above` : `in packageDir ${explicit}`;
    throw new ModuleDependencyError(`${packages.join(', ')} must be installed on the cluster, and there is no package.json with a package-lock.json ${where} to install from`, {
      packages,
      hint: 'run `npm install` in the project (it writes package-lock.json), pass packageDir if the project is elsewhere, or install: \'never\' if the agents see this machine\'s files',
    });
  }
  const packageJson = readFileSync(join(dir, 'package.json'));
  const lockfile = readFileSync(join(dir, lockfileName));
  const hash = createHash('sha256').update(lockfile).update('\0').update(packageJson).digest('hex');
  return { dir, packageJson, lockfile, lockfileName, hash };
}

function findUp(start: string): string | undefined {
  for (let dir = start; ; dir = dirname(dir)) {
    if (LOCKFILES.some((name) => existsSync(join(dir, name)))) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

interface LockEntry {
  dev?: unknown;
  link?: unknown;
  workspaces?: unknown;
}

/** Where `npm ci` will put each package, relative to the install directory, from the lockfile. */
function lockfilePaths(project: ProjectFiles, externals: readonly ExternalPackage[]): Map<string, string> {
  const lockPath = join(project.dir, project.lockfileName);
  let entries: Record<string, LockEntry>;
  try {
    const parsed = JSON.parse(Buffer.from(project.lockfile).toString('utf8')) as { packages?: Record<string, LockEntry> };
    if (typeof parsed.packages !== 'object' || parsed.packages === null) throw new Error('it has no "packages" (lockfileVersion 2 or later is needed: npm 7+)');
    entries = parsed.packages;
  } catch (error) {
    throw new ModuleDependencyError(`cannot read ${lockPath}: ${(error as Error).message}`, {
      packages: externals.map((p) => p.name),
      hint: 'regenerate it with a current npm (`npm install`)',
      cause: error,
    });
  }
  if (entries['']?.workspaces !== undefined) {
    throw new ModuleDependencyError(`${lockPath} is a workspace root: npm ci there needs every workspace's files, which are not shipped`, {
      packages: externals.map((p) => p.name),
      hint: "install the packages on the cluster yourself and pass install: 'never'",
    });
  }
  const paths = new Map<string, string>();
  for (const p of externals) {
    // The copy this machine resolves, when it lies inside the project; else the top-level one.
    const local = p.dir === undefined ? undefined : relative(project.dir, p.dir).split(sep).join('/');
    const candidates = [local, `node_modules/${p.name}`].filter((c): c is string => c !== undefined && !c.startsWith('..'));
    const found = candidates.find((c) => entries[c] !== undefined);
    if (found === undefined) {
      throw new ModuleDependencyError(`${p.name} is not in ${lockPath}, so npm ci on the cluster would not install it`, {
        packages: [p.name],
        hint: `add it to the project's dependencies (npm install ${p.name})`,
      });
    }
    if (entries[found]?.dev === true) {
      throw new ModuleDependencyError(`${p.name} is a devDependency in ${lockPath}: the install on the cluster (npm ci --omit=dev) leaves it out`, {
        packages: [p.name],
        hint: `move it to dependencies (npm install --save-prod ${p.name})`,
      });
    }
    paths.set(p.name, found);
  }
  return paths;
}

function list(packages: readonly ExternalPackage[]): string {
  return packages.map((p) => `${p.name} (${p.reason})`).join(', ');
}
