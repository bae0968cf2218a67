import { ConfigError } from '../errors/errors.js';
import { shellQuote } from './launchers/batch/index.js';
import { LocalShell } from './launchers/local-shell.js';
import type { RemoteShell } from './launchers/remote-shell.js';

const MIN_NODE_MAJOR = 20;

/**
 * Finds a usable Node.js (>= 20) on the login node before any job is submitted, so a missing
 * node fails `start()` at once with a clear message instead of as N failed jobs: the configured
 * command after the setup lines, else (when allowed and the platform matches) this machine's own
 * node binary uploaded into the content-addressed cache.
 */
export async function resolveRemoteNode(
  shell: RemoteShell,
  options: { node: string; setup: readonly string[]; uploadNode: boolean; cacheDir: string },
): Promise<string> {
  const probe = [
    ...options.setup,
    `${shellQuote(options.node)} -e 'process.stdout.write(process.versions.node)'`,
  ].join('\n');
  const found = await shell.exec(`bash -c ${shellQuote(probe)} </dev/null`, { timeoutMs: 60_000 });
  const version = found.code === 0 ? found.stdout.trim() : '';
  const major = Number(version.split('.')[0]);
  if (major >= MIN_NODE_MAJOR) return options.node;

  const why = version ? `found node ${version} (need >= ${MIN_NODE_MAJOR})` : `'${options.node}' did not run (${lastLine(found.stderr) || `exit ${found.code}`})`;
  // Only an SSH shell can upload; any shell but the local one means ssh2 is loaded already.
  const ssh = options.uploadNode && !(shell instanceof LocalShell) ? await import('./ssh/index.js') : null;
  if (!ssh || !(shell instanceof ssh.SshShell)) {
    throw new ConfigError(`no usable node on ${shell.description}: ${why}`, {
      hint: "set `node` to the path of a Node.js >= 20 there, add `module load nodejs` (or similar) to `setup`, or allow uploadNode",
    });
  }
  const uname = await shell.exec('uname -sm', { timeoutMs: 30_000 });
  const remote = uname.stdout.trim();
  const local = localPlatform();
  if (remote !== local) {
    throw new ConfigError(`no usable node on ${shell.description}: ${why}; this machine's node (${local}) cannot run there (${remote || 'unknown platform'})`, {
      hint: "set `node` to a Node.js >= 20 on the cluster, or add the line that loads one (`module load nodejs`) to `setup`",
    });
  }
  const cached = await ssh.ensureCached(shell, process.execPath, { cacheDir: options.cacheDir, name: 'node', mode: 0o755 });
  return cached.path;
}

function localPlatform(): string {
  const os = process.platform === 'linux' ? 'Linux' : process.platform === 'darwin' ? 'Darwin' : process.platform;
  const arch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? (process.platform === 'darwin' ? 'arm64' : 'aarch64') : process.arch;
  return `${os} ${arch}`;
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}
