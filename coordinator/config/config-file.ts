/**
 * The config file: where it is, reading and validating it, and turning `Cluster.start({ profile })`
 * into plain options.
 *
 * ```yaml
 * # ./clustrix.config.yaml, else $XDG_CONFIG_HOME/clustrix/config.yaml (~/.config/clustrix/config.yaml)
 * default: hpc
 * profiles:
 *   hpc:
 *     backend: slurm
 *     ssh: { host: login.hpc.example.edu, user: ada }
 *     resources: { cpusPerTask: 8, memory: 16G, time: '02:00:00', partition: short }
 * ```
 *
 * Every error is a ConfigError naming the file; a problem inside it also gives `line:col` and the
 * key path: `/home/ada/proj/clustrix.config.yaml:7:33: profiles.hpc.resources.cpusPerTask: expected a positive integer, got "eight"`.
 * The whole file is checked on load, not only the profile asked for: a file is fixed once, not one
 * profile at a time as each gets used.
 */
import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { ConfigError } from '../errors/errors.js';
import { clusterOptionsSchema, clusterOptionsShape, type ClusterOptions } from './options-schema.js';
import { parseOptions } from './parse-options.js';
import type { ResourceOptions } from '../backends/launchers/batch/resources.js';
import { describeIssues, didYouMean, reportProblems, type KeyPath } from './issues.js';
import { configFileSchema, type ProfileOptions } from './profile-schema.js';

const profileAndFile = clusterOptionsShape.pick({ profile: true, configFile: true });

/** The file in the working directory: a project's own profiles, found before the user's. */
export const PROJECT_CONFIG_NAME = 'clustrix.config.yaml';

/** A loaded, valid config file. */
export interface ClustrixConfig {
  /** The file it was read from, as given to loadConfig. */
  readonly path: string;
  readonly profiles: Readonly<Record<string, ProfileOptions>>;
  /** The profile used when none is named, if the file names one. */
  readonly default: string | undefined;
}

/** Where to look for the config file; each defaults to this process's. */
export interface ConfigSearch {
  cwd?: string;
  home?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The files findConfigFile tries, in order: the project's, then the user's. XDG_CONFIG_HOME
 * replaces ~/.config when it is set to an absolute path (the XDG spec ignores a relative one).
 */
export function configFileCandidates(cwd = process.cwd(), home = os.homedir(), env: NodeJS.ProcessEnv = process.env): string[] {
  const xdg = env.XDG_CONFIG_HOME;
  const configHome = xdg && isAbsolute(xdg) ? xdg : join(home, '.config');
  return [join(resolve(cwd), PROJECT_CONFIG_NAME), join(configHome, 'clustrix', 'config.yaml')];
}

/** The first config file that exists, or null. */
export function findConfigFile(cwd = process.cwd(), home = os.homedir(), env: NodeJS.ProcessEnv = process.env): string | null {
  return configFileCandidates(cwd, home, env).find(isFile) ?? null;
}

/** Reads, parses and validates a config file; every problem is a ConfigError naming the file. */
export function loadConfig(path: string): ClustrixConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(code === 'ENOENT' ? `${path}: no such config file` : `${path}: cannot read the config file (${code ?? String(err)})`, { cause: err });
  }

  const lines = new LineCounter();
  // YAML 1.2 core schema (so `no` stays a string); `<<` merge keys let profiles share settings
  // through anchors; duplicate keys are an error rather than the last one silently winning.
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, merge: true, uniqueKeys: true });
  const at = (offset: number): string => {
    const { line, col } = lines.linePos(offset);
    return `${path}:${line}:${col}`;
  };
  const syntax = doc.errors[0];
  if (syntax) {
    throw new ConfigError(`${at(syntax.pos[0])}: invalid YAML: ${firstLine(syntax.message)}`, { cause: syntax });
  }

  const data: unknown = doc.toJS({ maxAliasCount: 100 });
  const parsed = configFileSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    // In file order, so the message reads top to bottom like the file; a mistake such as a
    // mis-indented block can produce dozens, of which the first few say enough.
    const problems = describeIssues(parsed.error.issues, configFileSchema)
      .map((p) => ({ ...p, offset: offsetOf(doc, p.path, p.unknownKey) }))
      .sort((a, b) => (a.offset ?? -1) - (b.offset ?? -1))
      .map((p) => ({ ...p, where: p.offset === undefined ? path : at(p.offset) }));
    // No cause: zod's issues hold the inputs, a refused secret among them.
    throw new ConfigError(reportProblems(problems));
  }

  const config: ClustrixConfig = { path, profiles: parsed.data.profiles, default: parsed.data.default };
  if (config.default !== undefined && !Object.hasOwn(config.profiles, config.default)) {
    const offset = offsetOf(doc, ['default'], false);
    throw new ConfigError(`${offset === undefined ? path : at(offset)}: default: ${noSuchProfile(config.default, config)}`);
  }
  return config;
}

/** A profile of a loaded config, by name; an unknown name lists the profiles there are. */
export function selectProfile(config: ClustrixConfig, name: string): ProfileOptions {
  const profile = Object.hasOwn(config.profiles, name) ? config.profiles[name] : undefined;
  if (profile === undefined) throw new ConfigError(`${config.path}: ${noSuchProfile(name, config)}`);
  return profile;
}

/**
 * Cluster.start options with their profile applied: `{ ...profile, ...overrides }`, without
 * `profile` and `configFile`.
 *
 * The file is read only when the caller asks for it, by `profile` or by `configFile`. With
 * `configFile` alone the file's `default` profile is used. A bare `Cluster.start()` never reads a
 * file, even one that names a default: a `default: hpc` in ~/.config would otherwise turn every
 * program's (and every test suite's) local cluster into batch jobs on a shared machine. `default`
 * serves the CLI (`clustrix check` without a name) and an explicit `configFile`.
 *
 * A relative `configFile` is taken from `search.cwd`.
 */
export function resolveProfile(options: ClusterOptions, search: ConfigSearch = {}): ClusterOptions {
  // Not an object: the options schema says so, in the words it uses for every option.
  if (typeof options !== 'object' || options === null) return parseOptions(clusterOptionsSchema, options);
  const { profile, configFile, ...overrides } = options;
  if (profile === undefined && configFile === undefined) return overrides;
  // The rest is checked after the merge (resolveClusterOptions): an override may complete the profile.
  parseOptions(profileAndFile, { profile, configFile });

  const cwd = search.cwd ?? process.cwd();
  let path: string;
  if (configFile !== undefined) {
    path = resolve(cwd, configFile);
  } else {
    const candidates = configFileCandidates(cwd, search.home ?? os.homedir(), search.env ?? process.env);
    const found = candidates.find(isFile);
    if (found === undefined) {
      throw new ConfigError(`profile '${profile}' asked for, but there is no config file (looked for ${candidates.join(' and ')})`, {
        hint: `create ${PROJECT_CONFIG_NAME} with a 'profiles:' mapping holding '${profile}', or pass configFile`,
      });
    }
    path = found;
  }

  const config = loadConfig(path);
  const name = profile ?? config.default;
  if (name === undefined) {
    throw new ConfigError(`${path}: no profile asked for and the file names no default (profiles: ${profileList(config)})`, {
      hint: "pass profile: '<name>' to Cluster.start(), or add 'default: <name>' to the file",
    });
  }
  return mergeProfile(selectProfile(config, name), overrides);
}

/**
 * `{ ...profile, ...overrides }`, except that the nested options `ssh`, `resources`, `slurm`,
 * `pbs`, `sge` and `kubernetes` merge one level deep, so an override of `ssh.user` keeps the
 * profile's `ssh.host` (inside them, lists and maps such as `kubernetes.labels` are replaced
 * whole, as top-level lists are). An override that is undefined leaves the profile's value:
 * callers forward optional flags as `{ agents: flags.agents }`, which must not erase `agents`.
 */
export function mergeProfile(profile: ProfileOptions, overrides: ClusterOptions): ClusterOptions {
  const merged: ClusterOptions = { ...profile, ...defined(overrides) };
  const { ssh, resources, slurm, pbs, sge, kubernetes } = overrides;
  // isPlainObject: a JS caller's malformed override is passed on as given, for the option checks to name.
  if (profile.ssh && isPlainObject(ssh)) merged.ssh = { ...profile.ssh, ...defined(ssh) };
  if (profile.resources && isPlainObject(resources)) merged.resources = { ...withoutQueueAlias(profile.resources, resources), ...defined(resources) };
  if (profile.slurm && isPlainObject(slurm)) merged.slurm = { ...profile.slurm, ...defined(slurm) };
  if (profile.pbs && isPlainObject(pbs)) merged.pbs = { ...profile.pbs, ...defined(pbs) };
  if (profile.sge && isPlainObject(sge)) merged.sge = { ...profile.sge, ...defined(sge) };
  if (profile.kubernetes && isPlainObject(kubernetes)) merged.kubernetes = { ...profile.kubernetes, ...defined(kubernetes) };
  return merged;
}

/**
 * `resources.partition` and `resources.queue` are one setting under two names (compileResources
 * refuses both), so an override that sets either replaces the profile's, whichever name it used.
 */
function withoutQueueAlias(base: ResourceOptions, over: ResourceOptions): ResourceOptions {
  if (over.partition === undefined && over.queue === undefined) return base;
  const { partition: _partition, queue: _queue, ...rest } = base;
  return rest;
}

function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function noSuchProfile(name: string, config: ClustrixConfig): string {
  return `no profile '${name}' (profiles: ${profileList(config)})${didYouMean(name, Object.keys(config.profiles))}`;
}

function profileList(config: ClustrixConfig): string {
  const names = Object.keys(config.profiles);
  return names.length === 0 ? 'none' : names.join(', ');
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/**
 * The offset in the file of the value (or, for an unknown key, the key) at `path`. A path that
 * ends early (a missing key, a value from a `<<` merge) gives the nearest enclosing node, so the
 * message still points into the right mapping.
 */
function offsetOf(doc: Document, path: KeyPath, unknownKey: boolean): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (const [i, segment] of path.entries()) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : p.key) === String(segment));
      if (!pair) break;
      if (unknownKey && i === path.length - 1) return rangeStart(pair.key) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      node = node.items[segment];
    } else {
      break;
    }
    offset = rangeStart(node) ?? offset;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  return (node as Node | null | undefined)?.range?.[0];
}
