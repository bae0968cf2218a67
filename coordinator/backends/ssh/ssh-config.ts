/**
 * A reader of OpenSSH client config (`~/.ssh/config`), so a profile that names a host alias reaches
 * the same place, as the same user, through the same bastion as `ssh alias` does.
 *
 * Semantics follow ssh_config(5): for each keyword the first value obtained wins (IdentityFile
 * accumulates); `Host` patterns use `*`, `?` and `!negation`; `Include` is read in place, Host
 * lines inside an included file do not leak out of it, and a file included from a block that does
 * not apply applies nothing. Only the keywords clustrix uses are kept.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { homedir, hostname as localHostname, userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { SshError } from './errors.js';

/** What ssh_config says about one host; undefined where it says nothing. */
export interface SshHostConfig {
  hostName?: string;
  user?: string;
  port?: number;
  /** Raw values, tokens (`%d`, `%h`, ...) and `~` not yet expanded: that needs the final user and host. */
  identityFiles: string[];
  identitiesOnly?: boolean;
  identityAgent?: string;
  proxyJump?: string;
  userKnownHostsFiles?: string[];
  globalKnownHostsFiles?: string[];
  serverAliveInterval?: number;
  serverAliveCountMax?: number;
  connectTimeout?: number;
  strictHostKeyChecking?: string;
  /** Things read but not honoured (e.g. an unsupported `Match` criterion), for messages. */
  warnings: string[];
}

type Entry =
  | { kind: 'host'; patterns: string[]; where: string }
  | { kind: 'match'; criteria: string[]; where: string }
  | { kind: 'option'; keyword: string; args: string[]; where: string }
  // One list per included file: each starts from the includer's active state and cannot change it.
  | { kind: 'include'; files: Entry[][] };

export interface ParseOptions {
  /** For messages (`file:line`). */
  file?: string;
  /** Where relative `Include` paths are looked up. Default `~/.ssh` (`/etc/ssh` for files under it). */
  includeDir?: string;
}

const MAX_INCLUDE_DEPTH = 16;

/** A parsed config: `lookup(alias)` answers for one host. */
export class SshConfig {
  private constructor(private readonly entries: Entry[]) {}

  static parse(text: string, options: ParseOptions = {}): SshConfig {
    return new SshConfig(parseEntries(text, options, 0));
  }

  /** Reads config files in order (earlier files win); missing files count as empty. */
  static load(files: readonly string[]): SshConfig {
    const lists: Entry[][] = [];
    for (const file of files) {
      const text = readOptional(file);
      if (text !== undefined) lists.push(parseEntries(text, { file }, 0));
    }
    return new SshConfig([{ kind: 'include', files: lists }]);
  }

  /** The settings for a host as named by the user (the alias, before HostName). */
  lookup(alias: string): SshHostConfig {
    const out: SshHostConfig = { identityFiles: [], warnings: [] };
    walk(this.entries, true, false, alias, out);
    return out;
  }
}

/** The default files: the user's config, then the system-wide one. */
export function defaultConfigFiles(): string[] {
  return [join(homedir(), '.ssh', 'config'), '/etc/ssh/ssh_config'];
}

function parseEntries(text: string, options: ParseOptions, depth: number): Entry[] {
  const entries: Entry[] = [];
  const file = options.file ?? 'ssh_config';
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${file}:${i + 1}`;
    const m = /^([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+)(.*)$/.exec(line);
    if (!m) throw configError(`cannot read "${line}"`, where);
    const keyword = (m[1] ?? '').toLowerCase();
    const args = splitArgs(m[2] ?? '', where);
    if (keyword === 'host') entries.push({ kind: 'host', patterns: args, where });
    else if (keyword === 'match') entries.push({ kind: 'match', criteria: args, where });
    else if (keyword === 'include') entries.push({ kind: 'include', files: readIncludes(args, options, depth, where) });
    else entries.push({ kind: 'option', keyword, args, where });
  }
  return entries;
}

function readIncludes(args: string[], options: ParseOptions, depth: number, where: string): Entry[][] {
  if (depth >= MAX_INCLUDE_DEPTH) throw configError('Include nested too deeply (a loop?)', where);
  const includeDir = options.includeDir ?? (options.file?.startsWith('/etc/ssh/') ? '/etc/ssh' : join(homedir(), '.ssh'));
  const lists: Entry[][] = [];
  for (const arg of args) {
    const full = expandTilde(arg, homedir());
    const pattern = isAbsolute(full) ? full : join(includeDir, full);
    // ssh uses glob(3): a pattern that matches nothing is not an error. Wildcards only in the last part.
    for (const file of globLastComponent(pattern)) {
      const text = readOptional(file);
      if (text !== undefined) lists.push(parseEntries(text, { file, includeDir }, depth + 1));
    }
  }
  return lists;
}

function globLastComponent(pattern: string): string[] {
  const name = basename(pattern);
  if (!/[*?]/.test(name)) return [pattern];
  const dir = dirname(pattern);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => !n.startsWith('.') && wildcardMatch(n, name)).sort().map((n) => join(dir, n));
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT' || (err as { code?: unknown }).code === 'EISDIR') return undefined;
    throw err;
  }
}

/** Splits arguments on whitespace; double quotes group (ssh_config has no other escapes). */
function splitArgs(text: string, where: string): string[] {
  const args: string[] = [];
  const re = /"([^"]*)"|([^\s"]+)/g;
  let rest = text;
  const hash = /\s#/.exec(text);
  if (hash && !text.slice(0, hash.index).includes('"')) rest = text.slice(0, hash.index);
  if ((rest.match(/"/g) ?? []).length % 2 !== 0) throw configError('unbalanced quotes', where);
  for (const m of rest.matchAll(re)) args.push(m[1] ?? m[2] ?? '');
  return args;
}

/**
 * `neverMatch` is ssh's SSHCONF_NEVERMATCH: a file included from an inactive block is read, but
 * none of its Host or Match lines can activate.
 */
function walk(entries: Entry[], startActive: boolean, neverMatch: boolean, alias: string, out: SshHostConfig): void {
  let active = startActive;
  for (const e of entries) {
    if (e.kind === 'host') active = !neverMatch && matchPatternList(alias, e.patterns);
    else if (e.kind === 'match') active = !neverMatch && evalMatch(e.criteria, alias, out, e.where);
    else if (e.kind === 'include') for (const list of e.files) walk(list, active, neverMatch || !active, alias, out);
    else if (active) apply(e.keyword, e.args, e.where, out);
  }
}

function apply(keyword: string, args: string[], where: string, out: SshHostConfig): void {
  const first = args[0];
  if (first === undefined) throw configError(`${keyword} needs a value`, where);
  switch (keyword) {
    case 'hostname':
      out.hostName ??= first;
      break;
    case 'user':
      out.user ??= first;
      break;
    case 'port':
      out.port ??= parsePort(first, where);
      break;
    case 'identityfile':
      out.identityFiles.push(first);
      break;
    case 'identitiesonly':
      out.identitiesOnly ??= parseYesNo(first, where);
      break;
    case 'identityagent':
      out.identityAgent ??= first;
      break;
    case 'proxyjump':
      out.proxyJump ??= first;
      break;
    case 'userknownhostsfile':
      out.userKnownHostsFiles ??= args;
      break;
    case 'globalknownhostsfile':
      out.globalKnownHostsFiles ??= args;
      break;
    case 'serveraliveinterval':
      out.serverAliveInterval ??= parseSeconds(first, where);
      break;
    case 'serveralivecountmax':
      out.serverAliveCountMax ??= parseCount(first, where);
      break;
    case 'connecttimeout':
      out.connectTimeout ??= first.toLowerCase() === 'none' ? 0 : parseSeconds(first, where);
      break;
    case 'stricthostkeychecking':
      out.strictHostKeyChecking ??= first.toLowerCase();
      break;
    default:
      // Other keywords (Ciphers, ForwardAgent, ...) are ssh's business, not ours.
      break;
  }
}

function evalMatch(criteria: string[], alias: string, out: SshHostConfig, where: string): boolean {
  let result = true;
  for (let i = 0; i < criteria.length; ) {
    const raw = criteria[i] ?? '';
    const negate = raw.startsWith('!');
    const name = (negate ? raw.slice(1) : raw).toLowerCase();
    i++;
    if (name === 'all') continue;
    if (name === 'canonical' || name === 'final') {
      // There is no canonicalization pass or second pass here, so such blocks never apply.
      out.warnings.push(`${where}: Match ${name} is not supported; its block was skipped`);
      result = false;
      continue;
    }
    const arg = criteria[i++];
    if (arg === undefined) throw configError(`Match ${name} needs an argument`, where);
    const patterns = arg.split(',');
    let matched: boolean;
    if (name === 'host') matched = matchPatternList(out.hostName ?? alias, patterns);
    else if (name === 'originalhost') matched = matchPatternList(alias, patterns);
    else if (name === 'user') matched = matchPatternList(out.user ?? localUser(), patterns);
    else if (name === 'localuser') matched = matchPatternList(localUser(), patterns);
    else {
      out.warnings.push(`${where}: Match ${name} is not supported; its block was skipped`);
      return false;
    }
    if (matched === negate) result = false;
  }
  return result;
}

/** ssh's pattern lists: some positive pattern matches and no `!pattern` does; case-insensitive. */
export function matchPatternList(name: string, patterns: readonly string[]): boolean {
  let matched = false;
  const lower = name.toLowerCase();
  for (const p of patterns) {
    const negate = p.startsWith('!');
    if (wildcardMatch(lower, (negate ? p.slice(1) : p).toLowerCase())) {
      if (negate) return false;
      matched = true;
    }
  }
  return matched;
}

/** `*` matches any run of characters, `?` one character; everything else is literal. */
export function wildcardMatch(text: string, pattern: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(text);
}

export interface TokenContext {
  /** The final remote host name (%h). */
  host: string;
  /** The alias as given (%n). */
  alias: string;
  /** The remote user (%r). */
  user: string;
  port: number;
  /** Local home directory (%d), default os.homedir(). */
  localHome?: string;
  /** Local user (%u), default the current user. */
  localUser?: string;
}

/** Expands a leading `~` and the `%` tokens ssh accepts in IdentityFile and UserKnownHostsFile. */
export function expandPath(value: string, ctx: TokenContext): string {
  const home = ctx.localHome ?? homedir();
  const expanded = value.replace(/%(.)/g, (all, t: string) => {
    switch (t) {
      case '%':
        return '%';
      case 'd':
        return home;
      case 'u':
        return ctx.localUser ?? localUser();
      case 'h':
        return ctx.host;
      case 'n':
        return ctx.alias;
      case 'r':
        return ctx.user;
      case 'p':
        return String(ctx.port);
      case 'l':
        return localHostname().split('.')[0] ?? '';
      case 'L':
        return localHostname();
      case 'i':
        return String(process.getuid?.() ?? '');
      default:
        throw new SshError('SSH_CONFIG', `unknown token ${all} in "${value}"`, {
          target: ctx.alias,
          hint: 'ssh_config tokens here are %d %u %h %n %r %p %l %L %i and %%',
        });
    }
  });
  return expandTilde(expanded, home);
}

function expandTilde(value: string, home: string): string {
  if (value === '~') return home;
  if (value.startsWith('~/')) return join(home, value.slice(2));
  return value;
}

/** One hop of a ProxyJump list. */
export interface JumpHost {
  host: string;
  user?: string | undefined;
  port?: number | undefined;
}

/** Parses `[user@]host[:port]` items (also `ssh://` URIs and `[v6addr]:port`), comma separated; `none` is empty. */
export function parseProxyJump(value: string): JumpHost[] {
  if (value.trim().toLowerCase() === 'none') return [];
  return value.split(',').map((raw) => {
    const item = raw.trim().replace(/^ssh:\/\//, '');
    const at = item.lastIndexOf('@');
    const user = at >= 0 ? item.slice(0, at) : undefined;
    const hostPort = at >= 0 ? item.slice(at + 1) : item;
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(hostPort) ?? /^([^:]+)(?::(\d+))?$/.exec(hostPort);
    if (!m || !m[1] || user === '') throw configError(`bad ProxyJump item "${raw.trim()}"`, 'ProxyJump');
    return { host: m[1], user, port: m[2] === undefined ? undefined : parsePort(m[2], 'ProxyJump') };
  });
}

export function localUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'root';
  }
}

function parsePort(value: string, where: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw configError(`bad port "${value}"`, where);
  return n;
}

function parseSeconds(value: string, where: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw configError(`bad number of seconds "${value}"`, where);
  return n;
}

function parseCount(value: string, where: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw configError(`bad count "${value}"`, where);
  return n;
}

function parseYesNo(value: string, where: string): boolean {
  const v = value.toLowerCase();
  if (v === 'yes' || v === 'true') return true;
  if (v === 'no' || v === 'false') return false;
  throw configError(`expected yes or no, got "${value}"`, where);
}

function configError(message: string, where: string): SshError {
  return new SshError('SSH_CONFIG', `ssh config ${where}: ${message}`, {
    target: where,
    hint: 'fix that line of your ssh config (`ssh -G <host>` shows how OpenSSH reads it)',
  });
}
