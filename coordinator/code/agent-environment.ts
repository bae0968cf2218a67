/**
 * Where a cluster's agents run, as far as `cluster.module()` needs to know it: can they read this
 * machine's node_modules, and if not, can packages be installed where they are. Each backend
 * hands one to its Cluster: the local backend `localEnvironment()`, the ssh and batch backends
 * a remote one (remote-install.ts), Kubernetes and a service's remote pool one that can do
 * neither (`unreachableEnvironment`).
 */
import { execFile } from 'node:child_process';

export interface ProjectFiles {
  /** The project directory on this machine. */
  readonly dir: string;
  readonly packageJson: Uint8Array;
  readonly lockfile: Uint8Array;
  /** `package-lock.json` or `npm-shrinkwrap.json`. */
  readonly lockfileName: string;
  /** sha256 (hex) of the lockfile and package.json: the install's content address. */
  readonly hash: string;
}

/** One package that did not load, and the first lines of why. */
export interface ProbeFailure {
  name: string;
  message: string;
}

export interface AgentEnvironment {
  /** For messages: `this machine`, `testuser@login:22`. */
  readonly description: string;
  /** The agents read this machine's files at the same paths (local agents). */
  readonly local: boolean;
  /**
   * Installs the project where the agents run (once per content) and resolves with the directory
   * holding its node_modules, as the agents see it (`~/` is their home). Absent: not possible here.
   */
  install?(project: ProjectFiles): Promise<string>;
  /**
   * Imports each package with the agents' node, resolving bare names from `baseDir` (a directory
   * whose node_modules holds them); resolves with the ones that failed. Absent: not possible here.
   */
  probe?(baseDir: string, packages: readonly string[]): Promise<ProbeFailure[]>;
}

/** Where one pool's agents run; `pool` null: every agent (a service's pools, seen through Cluster.connect). */
export interface PoolEnvironment {
  readonly pool: string | null;
  readonly environment: AgentEnvironment;
}

/**
 * Imports each name in argv[1] (JSON) and prints the failures as JSON: the same `import` the
 * bundle does on the agent, run in a process of its own so a crashing addon costs only the probe.
 */
export const PROBE_SCRIPT = [
  'const failed = [];',
  'for (const name of JSON.parse(process.argv[1])) {',
  '  try { await import(name); } catch (e) {',
  "    failed.push({ name, message: String(e && e.message !== undefined ? e.message : e).split('\\n').slice(0, 3).join('\\n') });",
  '  }',
  '}',
  'process.stdout.write(JSON.stringify(failed));',
].join('\n');

/** Reads the probe's stdout; a probe that printed something else failed as a whole. */
export function parseProbe(stdout: string, packages: readonly string[], stderr: string): ProbeFailure[] {
  try {
    const parsed: unknown = JSON.parse(stdout);
    if (Array.isArray(parsed)) return parsed as ProbeFailure[];
  } catch {
    // below
  }
  const message = stderr.trim().split('\n').slice(-3).join('\n') || 'the load check printed nothing';
  return packages.map((name) => ({ name, message }));
}

/** Agents on this machine: they resolve packages from this machine's node_modules. One object, so module()'s checks are done once per process. */
export function localEnvironment(): AgentEnvironment {
  return (local ??= {
    description: 'this machine',
    local: true,
    probe: (baseDir, packages) =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          ['--input-type=module', '-e', PROBE_SCRIPT, JSON.stringify(packages)],
          { cwd: baseDir, timeout: 60_000, maxBuffer: 4 * 1024 * 1024 },
          (error, stdout, stderr) => resolve(parseProbe(stdout, packages, stderr || (error?.message ?? ''))),
        );
      }),
  });
}

let local: AgentEnvironment | undefined;

/** Agents whose files clustrix cannot reach (Kubernetes pods, a service's remote pool): nothing can be installed or checked. */
export function unreachableEnvironment(description: string): AgentEnvironment {
  return { description, local: false };
}

/**
 * The agents of a service this program is connected to (`Cluster.connect()`): a local service's
 * agents read this machine's files; the packages of a remote one are not installed through the
 * connection (yet), so module() says so instead of the agents failing later.
 */
export function serviceEnvironment(backend: string): AgentEnvironment {
  return backend === 'local' ? localEnvironment() : unreachableEnvironment(`the service's ${backend} pool (through Cluster.connect)`);
}
