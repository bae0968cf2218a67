/**
 * The AgentEnvironment of the ssh and batch backends: packages are installed on the cluster, in its
 * content-addressed cache, by the shells the launcher already holds (the login node; each host of
 * the ssh backend):
 *
 *   <cacheDir>/npm-<hash>.src/              package.json + lockfile, uploaded when missing
 *   <cacheDir>/npm-<hash>-<abi>/            `npm ci --omit=dev` of them, by the agents' node
 *   <cacheDir>/npm-<hash>-<abi>/.clustrix-installed   written last: the install is complete
 *
 * `<hash>` covers the lockfile and package.json, `<abi>` the Node ABI, platform and arch of the
 * agents' node (an addon is built for those). The install runs in a temporary directory renamed
 * into place, so a job starting meanwhile, or a second coordinator installing the same thing,
 * never sees half an install; whichever rename lands first wins and the other copy is dropped.
 */
import type { RemoteShell } from '../backends/launchers/remote-shell.js';
import { resolveRemotePath } from '../backends/launchers/batch/bootstrap.js';
import { shellQuote } from '../backends/launchers/batch/shell-quote.js';
import { ModuleDependencyError } from '../errors/errors.js';
import { PROBE_SCRIPT, parseProbe, type AgentEnvironment, type ProbeFailure, type ProjectFiles } from './agent-environment.js';

export interface RemoteEnvironmentOptions {
  /** Where the agents run; the first also names the environment in messages. */
  shells: readonly RemoteShell[];
  /** The cluster's cache root (`~/` is the remote home), as the agent bundle uses it. */
  cacheDir: string;
  /** The agents' node command (as resolveRemoteNode found it). */
  node: string;
  /** The user's setup lines (`module load nodejs`), run before npm and node. */
  setup: readonly string[];
  /** Limit on one install. @default 600000 (10 minutes) */
  installTimeoutMs?: number;
}

/** Lines of npm's output kept in an error: its first (npm says what is wrong, then may print its usage) and its last. */
const HEAD_LINES = 15;
const TAIL_LINES = 25;
const EXIT_NO_NPM = 98;
const DONE = 'CLUSTRIX_INSTALL_DIR=';

export function remoteEnvironment(options: RemoteEnvironmentOptions): AgentEnvironment {
  const first = options.shells[0];
  if (!first) throw new Error('remoteEnvironment needs at least one shell');
  const installs = new Map<string, Promise<string>>();
  return {
    description: options.shells.length === 1 ? first.description : `${first.description} and ${options.shells.length - 1} more hosts`,
    local: false,
    install(project) {
      let done = installs.get(project.hash);
      if (!done) {
        done = installEverywhere(options, project);
        done.catch(() => installs.delete(project.hash));
        installs.set(project.hash, done);
      }
      return done;
    },
    async probe(baseDir, packages) {
      const results = await Promise.all(options.shells.map((shell) => probeOn(shell, options, baseDir, packages)));
      return results.flat();
    },
  };
}

async function installEverywhere(options: RemoteEnvironmentOptions, project: ProjectFiles): Promise<string> {
  const dirs = await Promise.all(options.shells.map((shell) => installOn(shell, options, project)));
  const distinct = [...new Set(dirs)];
  if (distinct.length > 1) {
    throw new ModuleDependencyError(`the hosts disagree on where the install lives (${distinct.join(', ')}): their Node.js versions or platforms differ`, {
      packages: [],
      hint: 'give every host the same Node.js (set `node`, or a setup line that loads it)',
    });
  }
  return distinct[0]!;
}

async function installOn(shell: RemoteShell, options: RemoteEnvironmentOptions, project: ProjectFiles): Promise<string> {
  const home = await shell.home();
  const root = resolveRemotePath(options.cacheDir, home);
  const src = `${root}/npm-${project.hash}.src`;
  for (const [name, bytes] of [['package.json', project.packageJson], [project.lockfileName, project.lockfile]] as const) {
    if (!(await shell.exists(`${src}/${name}`))) await shell.writeFile(`${src}/${name}`, bytes, 0o644);
  }
  const q = shellQuote;
  const script = [
    ...options.setup,
    `node=${q(options.node)}`,
    // npm runs under the agents' node, so what it builds or downloads fits them.
    'case "$node" in */*) PATH="$(dirname "$node"):$PATH"; export PATH;; esac',
    `abi=$("$node" -p 'process.versions.modules + "-" + process.platform + "-" + process.arch') || exit 97`,
    `dir=${q(`${root}/npm-${project.hash}`)}-$abi`,
    `if [ -f "$dir/.clustrix-installed" ]; then echo "${DONE}$dir"; exit 0; fi`,
    `command -v npm >/dev/null 2>&1 || { echo "npm is not on PATH" >&2; exit ${EXIT_NO_NPM}; }`,
    'tmp="$dir.tmp-$$"',
    `rm -rf "$tmp" && mkdir -p "$tmp" && cp ${q(`${src}/package.json`)} ${q(`${src}/${project.lockfileName}`)} "$tmp"/ || exit 96`,
    'cd "$tmp" || exit 96',
    'npm ci --omit=dev --no-audit --no-fund >&2 || { rc=$?; cd /; rm -rf "$tmp"; exit $rc; }',
    'touch .clustrix-installed && cd / || exit 96',
    'mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"',
    `[ -f "$dir/.clustrix-installed" ] && echo "${DONE}$dir"`,
  ].join('\n');
  const result = await shell.exec(`bash -c ${q(script)} </dev/null`, { timeoutMs: options.installTimeoutMs ?? 600_000 });
  const line = result.stdout.split('\n').find((l) => l.startsWith(DONE));
  if (result.code === 0 && line) return agentsView(line.slice(DONE.length).trim(), home);
  const output = headAndTail(`${result.stderr}${result.stdout}`);
  throw new ModuleDependencyError(
    result.code === EXIT_NO_NPM
      ? `cannot install the project's dependencies on ${shell.description}: npm is not on PATH there`
      : `npm ci --omit=dev of ${project.lockfileName} failed on ${shell.description} (exit ${result.code ?? 'by a signal'})`,
    {
      packages: [],
      output,
      hint:
        result.code === EXIT_NO_NPM
          ? "add the line that loads Node.js with npm to `setup` (e.g. module load nodejs), or install the packages there yourself and pass install: 'never'"
          : 'read npm\'s output above (a registry the cluster cannot reach, a package that does not build there); fix it, or install the packages yourself and pass install: \'never\'',
    },
  );
}

async function probeOn(shell: RemoteShell, options: RemoteEnvironmentOptions, baseDir: string, packages: readonly string[]): Promise<ProbeFailure[]> {
  const base = resolveRemotePath(baseDir, await shell.home());
  const q = shellQuote;
  const script = [...options.setup, `cd ${q(base)} || exit 95`, `exec ${q(options.node)} --input-type=module -e ${q(PROBE_SCRIPT)} ${q(JSON.stringify(packages))}`].join('\n');
  const result = await shell.exec(`bash -c ${q(script)} </dev/null`, { timeoutMs: 120_000 });
  const stderr = result.code === 95 ? `${base} does not exist on ${shell.description}` : result.stderr;
  return parseProbe(result.stdout, packages, stderr).map((f) => ({ name: f.name, message: `on ${shell.description}: ${f.message}` }));
}

function headAndTail(text: string): string {
  const lines = text.trimEnd().split('\n');
  if (lines.length <= HEAD_LINES + TAIL_LINES) return lines.join('\n');
  return [...lines.slice(0, HEAD_LINES), `... (${lines.length - HEAD_LINES - TAIL_LINES} lines cut)`, ...lines.slice(-TAIL_LINES)].join('\n');
}

/** `/home/u/.clustrix/…` → `~/.clustrix/…`: agents expand it to their own home, which can differ between hosts. */
function agentsView(dir: string, home: string): string {
  const h = home.replace(/\/+$/, '');
  return dir.startsWith(`${h}/`) ? `~/${dir.slice(h.length + 1)}` : dir;
}
