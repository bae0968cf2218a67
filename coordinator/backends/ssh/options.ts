import { MAX_TIMER_MS } from '../../../protocol/durations.js';
/**
 * The options pipeline for an SSH connection: user options → (ssh_config) → defaults → a resolved
 * target with every field set and durations in milliseconds. Precedence is explicit options first,
 * then `~/.ssh/config`, then the defaults written next to each option below.
 *
 * Secrets (passphrase, inline key) are options of the connection but never part of the resolved
 * target, so logging a target cannot leak them.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SshError } from './errors.js';
import { defaultConfigFiles, expandPath, localUser, parseProxyJump, SshConfig, type JumpHost } from './ssh-config.js';

export interface SshOptions {
  /** A host name, address, or a Host alias from ~/.ssh/config. */
  host: string;
  /** @default ssh_config Port, else 22 */
  port?: number;
  /** @default ssh_config User, else the local user name */
  user?: string;
  /** Private key files, tried in order. Replaces ssh_config's IdentityFile when given. @default ssh_config IdentityFile, else ~/.ssh/id_{rsa,ecdsa,ed25519} that exist */
  identityFile?: string | readonly string[];
  /** A private key's text (PEM or OpenSSH format), tried before the files. */
  privateKey?: string | Buffer;
  /** Decrypts encrypted keys. Never logged or put in an error. @default env CLUSTRIX_SSH_PASSPHRASE */
  passphrase?: string;
  /** Offer only the key files (and agent keys that match them). @default ssh_config IdentitiesOnly, else false */
  identitiesOnly?: boolean;
  /** ssh-agent socket, or false for no agent. @default ssh_config IdentityAgent, else env SSH_AUTH_SOCK */
  agent?: string | false;
  /** Bastions: `[user@]host[:port]`, comma separated, or `none`. @default ssh_config ProxyJump, else none */
  proxyJump?: string;
  /** known_hosts files to check the host key against. @default ssh_config UserKnownHostsFile + GlobalKnownHostsFile, else ~/.ssh/known_hosts(2) and /etc/ssh/ssh_known_hosts(2) */
  knownHostsFile?: string | readonly string[];
  /** Pin the host key by its fingerprint (`SHA256:...` as `ssh-keygen -lf` prints it) instead of known_hosts. */
  hostKeyFingerprint?: string;
  /** Keepalive probe interval; 0 disables. @default ssh_config ServerAliveInterval, else 30000 */
  keepaliveIntervalMs?: number;
  /** Unanswered probes before the connection is declared dead. @default ssh_config ServerAliveCountMax, else 3 */
  keepaliveCountMax?: number;
  /** Limit for the TCP connect and again for the SSH handshake with authentication. @default ssh_config ConnectTimeout, else 20000 */
  connectTimeoutMs?: number;
  /** ssh config file to read, or false for none (like `ssh -F`). @default ~/.ssh/config then /etc/ssh/ssh_config */
  configFile?: string | false;
}

/** Where and how to connect, after ssh_config and defaults; no secrets. */
export interface ResolvedSshTarget {
  /** The name the user gave (Host alias or host). */
  alias: string;
  /** The host to connect to (after HostName). */
  host: string;
  port: number;
  user: string;
  /** Absolute paths, tried in order. */
  identityFiles: string[];
  /** True when the files were named by the user (a missing one is then worth reporting). */
  identityFilesExplicit: boolean;
  identitiesOnly: boolean;
  /** ssh-agent socket path, or undefined for none. */
  agent: string | undefined;
  proxyJump: JumpHost[];
  knownHostsFiles: string[];
  hostKeyFingerprint: string | undefined;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  connectTimeoutMs: number;
  /** As ssh_config says it, for messages only: host keys are always checked strictly. */
  strictHostKeyChecking: string | undefined;
  /** Config lines read but not honoured. */
  configWarnings: string[];
}

const DEFAULT_KEEPALIVE_MS = 30_000; // OpenSSH's default is off; HPC firewalls drop idle sessions, and we want to notice a dead login node.
const DEFAULT_KEEPALIVE_COUNT = 3;
const DEFAULT_CONNECT_TIMEOUT_MS = 20_000; // OpenSSH waits for the kernel's TCP timeout (minutes); too long for a launcher.
const DEFAULT_KEY_NAMES = ['id_rsa', 'id_ecdsa', 'id_ed25519'];

export function resolveSshTarget(options: SshOptions, config?: SshConfig): ResolvedSshTarget {
  validate(options);
  const cfg = (config ?? loadConfig(options.configFile)).lookup(options.host);
  const host = cfg.hostName ? cfg.hostName.replace(/%h/g, options.host).replace(/%%/g, '%') : options.host;
  const user = options.user ?? cfg.user ?? localUser();
  const port = options.port ?? cfg.port ?? 22;
  const ctx = { host, alias: options.host, user, port };

  const explicitFiles = options.identityFile === undefined ? undefined : toList(options.identityFile);
  const rawFiles = explicitFiles ?? (cfg.identityFiles.length > 0 ? cfg.identityFiles : undefined);
  const identityFiles = rawFiles
    ? rawFiles.map((f) => expandPath(f, ctx))
    : DEFAULT_KEY_NAMES.map((n) => join(homedir(), '.ssh', n));

  const knownHostsFiles = options.knownHostsFile !== undefined
    ? toList(options.knownHostsFile).map((f) => expandPath(f, ctx))
    : [
        ...(cfg.userKnownHostsFiles ?? ['~/.ssh/known_hosts', '~/.ssh/known_hosts2']),
        ...(cfg.globalKnownHostsFiles ?? ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']),
      ].filter((f) => f.toLowerCase() !== 'none').map((f) => expandPath(f, ctx));

  return {
    alias: options.host,
    host,
    port,
    user,
    identityFiles,
    identityFilesExplicit: rawFiles !== undefined,
    identitiesOnly: options.identitiesOnly ?? cfg.identitiesOnly ?? false,
    agent: resolveAgent(options.agent, cfg.identityAgent, ctx),
    proxyJump: parseProxyJump(options.proxyJump ?? cfg.proxyJump ?? 'none'),
    knownHostsFiles,
    hostKeyFingerprint: options.hostKeyFingerprint,
    keepaliveIntervalMs: options.keepaliveIntervalMs ?? secondsToMs(cfg.serverAliveInterval) ?? DEFAULT_KEEPALIVE_MS,
    keepaliveCountMax: options.keepaliveCountMax ?? cfg.serverAliveCountMax ?? DEFAULT_KEEPALIVE_COUNT,
    connectTimeoutMs: options.connectTimeoutMs ?? secondsToMs(cfg.connectTimeout || undefined) ?? DEFAULT_CONNECT_TIMEOUT_MS,
    strictHostKeyChecking: cfg.strictHostKeyChecking,
    configWarnings: cfg.warnings,
  };
}

/** `user@host:port`, the name used in messages and as the connection pool's key. */
export function describeTarget(t: { user: string; host: string; port: number }): string {
  return `${t.user}@${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

function loadConfig(configFile: string | false | undefined): SshConfig {
  if (configFile === false) return SshConfig.parse('');
  return SshConfig.load(configFile === undefined ? defaultConfigFiles() : [configFile]);
}

function resolveAgent(option: string | false | undefined, fromConfig: string | undefined, ctx: Parameters<typeof expandPath>[1]): string | undefined {
  if (option === false) return undefined;
  if (option !== undefined) return option;
  if (fromConfig !== undefined) {
    if (fromConfig.toLowerCase() === 'none') return undefined;
    if (fromConfig === 'SSH_AUTH_SOCK') return process.env.SSH_AUTH_SOCK || undefined;
    if (fromConfig.startsWith('$')) return process.env[fromConfig.slice(1)] || undefined;
    return expandPath(fromConfig, ctx);
  }
  return process.env.SSH_AUTH_SOCK || undefined;
}

function secondsToMs(s: number | undefined): number | undefined {
  return s === undefined ? undefined : s * 1000;
}

function toList(v: string | readonly string[]): string[] {
  return typeof v === 'string' ? [v] : [...v];
}

function validate(o: SshOptions): void {
  const bad = (name: string, what: string): never => {
    throw new SshError('SSH_CONFIG', `option ${name} must be ${what}`, { target: String(o.host), hint: `fix the ${name} option` });
  };
  if (typeof o.host !== 'string' || o.host === '') bad('host', 'a non-empty string');
  if (o.port !== undefined && (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535)) bad('port', 'an integer from 1 to 65535');
  for (const name of ['keepaliveIntervalMs', 'keepaliveCountMax', 'connectTimeoutMs'] as const) {
    const v = o[name];
    if (v !== undefined && (!Number.isFinite(v) || v < 0 || v > MAX_TIMER_MS)) bad(name, `a number from 0 to ${MAX_TIMER_MS}`);
  }
  if (o.hostKeyFingerprint !== undefined && !/^SHA256:[A-Za-z0-9+/]{43}=?$/.test(o.hostKeyFingerprint)) {
    bad('hostKeyFingerprint', "a SHA256 fingerprint like 'SHA256:' followed by 43 base64 characters (as `ssh-keygen -lf` prints it)");
  }
}
