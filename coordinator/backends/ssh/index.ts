/**
 * SSH transport for launchers: connections resolved like `ssh` resolves them (~/.ssh/config,
 * known_hosts, keys, agent, ProxyJump), a RemoteShell over them, a content-addressed upload cache,
 * and the reverse tunnel agents connect back through.
 *
 * ```ts
 * import { SshShell, ensureCached, openReverseTunnel } from './ssh/index.js';
 *
 * const shell = await SshShell.connect({ host: 'login.hpc.example.org' }); // or a Host alias
 * const { stdout } = await shell.exec('sbatch --parsable job.sh');
 * const agent = await ensureCached(shell, 'dist/bundle/agent.cjs');       // uploaded once per content
 * const tunnel = await openReverseTunnel(shell.connection, { localPort: 8787 });
 * // agents on the login node reach the coordinator at 127.0.0.1:${tunnel.remotePort}
 * await tunnel.close();
 * await shell.close();
 * ```
 */
export { SshError, type SshErrorCode, type SshErrorDetails } from './errors.js';
export { SshConnection, type ConnectOptions, type ForwardHandler, type HopSource, type SshExecResult } from './connection.js';
export { SshConnectionPool, defaultSshPool, type SshLease } from './pool.js';
export { SshShell, type SshShellOptions } from './ssh-shell.js';
export { ensureCached, DEFAULT_CACHE_DIR, type CachedFile, type EnsureCachedOptions } from './remote-cache.js';
export { openReverseTunnel, type ReverseTunnel, type ReverseTunnelOptions } from './tunnel.js';
export { resolveSshTarget, describeTarget, type SshOptions, type ResolvedSshTarget } from './options.js';
export {
  SshConfig,
  defaultConfigFiles,
  expandPath,
  matchPatternList,
  parseProxyJump,
  type SshHostConfig,
  type JumpHost,
  type ParseOptions,
  type TokenContext,
} from './ssh-config.js';
export {
  parseKnownHosts,
  loadKnownHosts,
  checkHostKey,
  knownHostsName,
  hashHostName,
  fingerprintSha256,
  type KnownHostsEntry,
  type HostKeyCheck,
} from './known-hosts.js';
export { PASSPHRASE_ENV } from './auth.js';
