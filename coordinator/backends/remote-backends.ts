import { isIP } from 'node:net';
import os from 'node:os';
import { agentEntryPath } from './agent-path.js';
import { agentEnv, formatHost, type Backend, type BackendContext } from './backends.js';
import { unreachableEnvironment } from '../code/agent-environment.js';
import { remoteEnvironment } from '../code/remote-install.js';
import { detectAdvertiseHost, detectRelayHost, openTunnel, type Tunnel } from './connect/index.js';
import { ConfigError } from '../errors/errors.js';
import { PbsLauncher, SgeLauncher, SlurmLauncher, SshHostsLauncher, cacheAgentBundle, type EnsureAgent } from './launchers/batch/index.js';
import { agentConnectInfo, type AgentConnectInfo, type Launcher } from './launchers/launcher.js';
import { LocalShell } from './launchers/local-shell.js';
import type { RemoteShell } from './launchers/remote-shell.js';
import type { ResolvedPoolOptions } from '../config/options.js';
import { loadSsh, requirePeer } from './peer-deps.js';
import { shellQuote } from './launchers/batch/shell-quote.js';
import { resolveRemoteNode } from './remote-node.js';
import type { SshOptions, SshShell } from './ssh/index.js';

type SshModule = Awaited<ReturnType<typeof loadSsh>>;

/**
 * The ssh, slurm, pbs, sge and kubernetes backends (see createBackend). The SSH layer (ssh2) is
 * loaded only when SSH is used, the Kubernetes client only for kubernetes: both are optional peer
 * dependencies, and a missing one fails here with a ConfigError naming it.
 */
export async function createRemoteBackend(options: ResolvedPoolOptions, context: BackendContext): Promise<Backend> {
  const shells: RemoteShell[] = [];
  let tunnel: Tunnel | null = null;
  let ssh: SshModule | null = null;
  const isSsh = (shell: RemoteShell): shell is SshShell => ssh !== null && shell instanceof ssh.SshShell;
  const release = async (): Promise<void> => {
    await tunnel?.close().catch((err: unknown) => context.log.warn(`closing the tunnel: ${(err as Error).message}`));
    await Promise.all(shells.map((s) => s.close().catch(() => undefined)));
  };
  try {
    const agentBundle = agentEntryPath();
    const cacheDir = `${options.remoteDir.replace(/\/+$/, '')}/cache`;
    const ensureAgent: EnsureAgent = async (shell) =>
      isSsh(shell) ? (await ssh!.ensureCached(shell, agentBundle, { cacheDir })).path : cacheAgentBundle(agentBundle, { cacheDir })(shell);
    const slotsFor = (): number | undefined => options.slots[0] ?? options.resources?.cpusPerTask;
    // Agent settings travel as plain exports before the user's setup lines (no secrets among them).
    const exports = Object.entries(agentEnv(options)).map(([k, v]) => `export ${k}=${shellQuote(v)}`);
    const common = { ensureAgent, clusterId: context.clusterId, remoteDir: options.remoteDir, setup: [...exports, ...options.setup], jobName: options.jobName };
    const batch = { binDir: options.binDir, resources: options.resources, ...(options.maxArraySize === null ? {} : { maxArraySize: options.maxArraySize }) };

    // The login node (or the first plain host): where scheduler commands, the node check and the tunnel run.
    let login: RemoteShell;
    let hostShells: RemoteShell[] = [];
    if (options.backend === 'ssh') {
      if (options.hosts.length === 0) throw new ConfigError("backend 'ssh' needs `hosts`: the machines agents start on");
      const { SshShell } = (ssh = await loadSsh("backend 'ssh'"));
      hostShells = await Promise.all(options.hosts.map((h) => SshShell.connect(hostOptions(h))));
      shells.push(...hostShells);
      login = hostShells[0]!;
    } else if (options.backend === 'kubernetes') {
      await requirePeer('@kubernetes/client-node', "backend 'kubernetes'");
      login = new LocalShell();
    } else if (options.ssh) {
      const { SshShell } = (ssh = await loadSsh(`backend '${options.backend}' through its login node (\`ssh\`)`));
      login = await SshShell.connect(options.ssh);
      shells.push(login);
    } else {
      login = new LocalShell();
      shells.push(login);
    }

    const connect = await connectInfo(options, context, login, isSsh, (t) => (tunnel = t), ensureAgent);
    if (options.backend === 'kubernetes') {
      const { KubernetesLauncher } = await import('./launchers/kubernetes/index.js');
      const env = { ...agentEnv(options), ...options.kubernetes.env };
      const environment = unreachableEnvironment('Kubernetes pods');
      return { launcher: new KubernetesLauncher({ ...options.kubernetes, env, connectUrl: connect.url, clusterName: context.clusterId }), connect, slotsFor, environment, release };
    }

    const node = await resolveRemoteNode(login, { node: options.node, setup: options.setup, uploadNode: options.uploadNode, cacheDir });
    let launcher: Launcher;
    switch (options.backend) {
      case 'ssh':
        launcher = new SshHostsLauncher({
          ...common,
          node,
          hosts: hostShells.map((shell, i) => ({ shell, maxAgents: maxAgentsOf(options.hosts[i]) })),
        });
        break;
      case 'slurm':
        launcher = new SlurmLauncher({ ...common, ...batch, node, shell: login, ...options.slurm });
        break;
      case 'pbs':
        launcher = new PbsLauncher({ ...common, ...batch, node, shell: login, ...options.pbs });
        break;
      case 'sge':
        launcher = new SgeLauncher({ ...common, ...batch, node, shell: login, ...options.sge });
        break;
      default:
        throw new ConfigError(`backend '${options.backend}' is not a remote backend`);
    }
    // The ssh backend's hosts may not share a filesystem: each gets the install; batch jobs share the login node's.
    const environment = remoteEnvironment({ shells: options.backend === 'ssh' ? hostShells : [login], cacheDir, node, setup: options.setup });
    return { launcher, connect, slotsFor, environment, release };
  } catch (err) {
    await release();
    throw err;
  }
}

async function connectInfo(
  options: ResolvedPoolOptions,
  context: BackendContext,
  login: RemoteShell,
  isSsh: (shell: RemoteShell) => shell is SshShell,
  keepTunnel: (t: Tunnel) => void,
  ensureAgent: EnsureAgent,
): Promise<AgentConnectInfo> {
  const base = { token: context.token, certFingerprint: context.certFingerprint };
  if (options.connect === 'direct') {
    const host = options.advertiseHost ?? (isSsh(login) ? await detectAdvertiseHost(login.connection.target.host, login.connection.target.port) : '127.0.0.1');
    const listenOn = options.host ?? listenAddressFor(host);
    if (listenOn === '0.0.0.0') context.log.info(`agents dial ${host}, which is no address of this machine (a name, NAT or a proxy): listening on all addresses; set host to narrow it`);
    const port = await context.listen(listenOn);
    return agentConnectInfo({ ...base, url: `${context.scheme}://${formatHost(host)}:${port}` });
  }
  if (!isSsh(login)) {
    throw new ConfigError("connect: 'tunnel' needs an SSH connection to the login node (`ssh`, or `hosts` for the ssh backend)");
  }
  // Only the SSH forward reaches the coordinator: it listens on loopback.
  const port = await context.listen(options.host ?? '127.0.0.1');
  const agentPath = await ensureAgent(login);
  const node = await resolveRemoteNode(login, { node: options.node, setup: options.setup, uploadNode: options.uploadNode, cacheDir: `${options.remoteDir}/cache` });
  const tunnel = await openTunnel({
    connection: login.connection,
    localPort: port,
    relayHost: options.relayHost ?? (await detectRelayHost(login.connection)),
    agentPath,
    node,
    setup: options.setup,
    remoteDir: options.remoteDir,
    scheme: context.scheme,
  });
  keepTunnel(tunnel);
  const url = tunnel.url;
  context.log.info(`agents connect through the tunnel at ${url}`);
  return agentConnectInfo({ ...base, url });
}

/** `address` itself when it belongs to one of this machine's interfaces, else every address. */
function listenAddressFor(address: string): string {
  const bare = address.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare) === 0) return '0.0.0.0';
  const local = Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
  return local.includes(bare) ? bare : '0.0.0.0';
}

function hostOptions(host: ResolvedPoolOptions['hosts'][number]): SshOptions {
  if (typeof host !== 'string') {
    const { maxAgents: _maxAgents, ...rest } = host;
    return rest;
  }
  // `user@host:port`, or an ssh_config alias.
  const m = /^(?:([^@]+)@)?([^:]+)(?::(\d+))?$/.exec(host);
  if (!m) throw new ConfigError(`hosts entry ${JSON.stringify(host)} is not 'host', 'user@host' or 'user@host:port'`);
  return { host: m[2]!, ...(m[1] ? { user: m[1] } : {}), ...(m[3] ? { port: Number(m[3]) } : {}) };
}

function maxAgentsOf(host: ResolvedPoolOptions['hosts'][number] | undefined): number | undefined {
  return typeof host === 'object' ? host.maxAgents : undefined;
}
