/**
 * Host key verification against OpenSSH known_hosts files, the same decision `ssh` makes with
 * `StrictHostKeyChecking yes`: a key we have never seen, or a different key than the one recorded,
 * is refused. There is deliberately no accept-all mode; pinning one fingerprint is the escape hatch.
 *
 * Entry formats handled: plain host names and addresses, `[host]:port`, comma lists, `*`/`?`/`!`
 * patterns, hashed names (`|1|base64(salt)|base64(HMAC-SHA1(salt, name))`), `@revoked` keys
 * (refused for any host) and `@cert-authority` lines (not usable: ssh2 does not negotiate host
 * certificates, so such a line never vouches for a key; the refusal says so).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { SshError } from './errors.js';
import { matchPatternList } from './ssh-config.js';

export interface KnownHostsEntry {
  marker: 'revoked' | 'cert-authority' | undefined;
  /** Comma-separated patterns, or one hashed `|1|salt|hash` name. */
  hosts: string;
  /** The key's type as decoded from its blob (e.g. `ssh-ed25519`). */
  keyType: string;
  key: Buffer;
  file: string;
  line: number;
}

export type HostKeyCheck =
  | { outcome: 'match'; entry: KnownHostsEntry }
  | { outcome: 'changed'; entry: KnownHostsEntry }
  | { outcome: 'revoked'; entry: KnownHostsEntry }
  | {
      outcome: 'unknown';
      /** Types of other keys recorded for this host (it has keys, but none of this type). */
      otherKeyTypes: string[];
      /** A `@cert-authority` line covers this host, which clustrix cannot use. */
      certAuthority: boolean;
    };

/** Parses a known_hosts file; lines that do not parse are skipped, as ssh does. */
export function parseKnownHosts(text: string, file = 'known_hosts'): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const fields = (lines[i] ?? '').trim().split(/\s+/);
    if (fields[0] === undefined || fields[0] === '' || fields[0].startsWith('#')) continue;
    let marker: KnownHostsEntry['marker'];
    if (fields[0].startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue;
    }
    const [hosts, , keyText] = fields;
    if (hosts === undefined || keyText === undefined) continue;
    const key = Buffer.from(keyText, 'base64');
    const keyType = keyBlobType(key);
    if (keyType === undefined) continue;
    entries.push({ marker, hosts, keyType, key, file, line: i + 1 });
  }
  return entries;
}

/** Reads and parses known_hosts files; files that do not exist count as empty. */
export async function loadKnownHosts(files: readonly string[]): Promise<KnownHostsEntry[]> {
  const all: KnownHostsEntry[] = [];
  for (const file of files) {
    try {
      all.push(...parseKnownHosts(await readFile(file, 'utf8'), file));
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
    }
  }
  return all;
}

/** The name ssh looks up: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** Whether an entry's host field names this lookup name (plain patterns or a hashed name). */
export function entryMatchesHost(hosts: string, name: string): boolean {
  if (hosts.startsWith('|1|')) {
    const [, , salt, hash] = hosts.split('|');
    if (salt === undefined || hash === undefined) return false;
    const want = Buffer.from(hash, 'base64');
    const got = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
    return want.length === got.length && timingSafeEqual(want, got);
  }
  return matchPatternList(name, hosts.split(','));
}

/** Hashes a name the way `ssh-keygen -H` (HashKnownHosts) does. */
export function hashHostName(name: string, salt: Buffer = randomBytes(20)): string {
  const hash = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${hash.toString('base64')}`;
}

/** Decides on a presented key (the SSH wire-format blob) for `host` on `port`. */
export function checkHostKey(entries: readonly KnownHostsEntry[], host: string, port: number, key: Buffer): HostKeyCheck {
  const name = knownHostsName(host, port);
  const type = keyBlobType(key) ?? 'unknown';
  // A revoked key is refused whatever else vouches for it, as in ssh.
  const revoked = entries.find((e) => e.marker === 'revoked' && e.key.equals(key));
  if (revoked) return { outcome: 'revoked', entry: revoked };

  const forHost = entries.filter((e) => e.marker === undefined && entryMatchesHost(e.hosts, name));
  const match = forHost.find((e) => e.key.equals(key));
  if (match) return { outcome: 'match', entry: match };
  const sameType = forHost.find((e) => e.keyType === type);
  if (sameType) return { outcome: 'changed', entry: sameType };
  return {
    outcome: 'unknown',
    otherKeyTypes: [...new Set(forHost.map((e) => e.keyType))],
    certAuthority: entries.some((e) => e.marker === 'cert-authority' && entryMatchesHost(e.hosts, name)),
  };
}

/** `SHA256:<base64 without padding>`, exactly as OpenSSH prints fingerprints. */
export function fingerprintSha256(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** Compares a `SHA256:...` fingerprint with a key, tolerating the base64 padding ssh leaves off. */
export function fingerprintMatches(fingerprint: string, key: Buffer): boolean {
  return fingerprint.replace(/=+$/, '') === fingerprintSha256(key);
}

/** The type name at the start of an SSH key blob (`string type`, then type-specific fields). */
export function keyBlobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || blob.length < 4 + len) return undefined;
  const type = blob.subarray(4, 4 + len).toString('latin1');
  return /^[a-z0-9@.-]+$/i.test(type) ? type : undefined;
}

/** The `-t` argument of ssh-keyscan for a key type. */
export function keyscanType(keyType: string): string {
  if (keyType === 'ssh-rsa') return 'rsa';
  if (keyType === 'ssh-ed25519') return 'ed25519';
  if (keyType.startsWith('ecdsa-')) return 'ecdsa';
  return keyType;
}

export interface RefusalContext {
  /** `user@host:port`, for the error's target. */
  target: string;
  host: string;
  port: number;
  key: Buffer;
  /** The known_hosts files consulted. */
  files: readonly string[];
  /** ssh_config's StrictHostKeyChecking, mentioned when it asks for less than we do. */
  strictHostKeyChecking?: string | undefined;
}

/** The typed refusal for a check that did not match; undefined when it did. */
export function hostKeyRefusal(check: HostKeyCheck, ctx: RefusalContext): SshError | undefined {
  if (check.outcome === 'match') return undefined;
  const name = knownHostsName(ctx.host, ctx.port);
  const type = keyBlobType(ctx.key) ?? 'unknown';
  const fp = fingerprintSha256(ctx.key);
  const file = displayPath(ctx.files.find((f) => f !== '/dev/null') ?? '~/.ssh/known_hosts');
  const keyscan = `ssh-keyscan ${ctx.port === 22 ? '' : `-p ${ctx.port} `}-t ${keyscanType(type)} ${ctx.host} >> ${file}`;
  const details = { target: ctx.target, fingerprint: fp };
  if (check.outcome === 'revoked') {
    return new SshError('SSH_HOST_KEY_REVOKED', `the host key of ${name} (${type} ${fp}) is marked @revoked in ${where(check.entry)}`, {
      ...details,
      hint: 'this key must not be trusted: ask the administrators of that host which key it should present',
    });
  }
  if (check.outcome === 'changed') {
    return new SshError(
      'SSH_HOST_KEY_CHANGED',
      `HOST KEY CHANGED for ${name}: the server presents ${type} ${fp}, but ${where(check.entry)} records ${fingerprintSha256(check.entry.key)}. ` +
        'Someone may be intercepting the connection (man-in-the-middle), or the host was reinstalled',
      {
        ...details,
        hint: `do not connect until the administrators confirm ${fp} is the host's new key; then remove the old entry with ` +
          `\`ssh-keygen -R '${name}' -f ${displayPath(check.entry.file)}\` and add the new one with \`${keyscan}\``,
      },
    );
  }
  const notes: string[] = [];
  if (check.otherKeyTypes.length > 0) notes.push(`known_hosts has only ${check.otherKeyTypes.join(', ')} keys for it`);
  if (check.certAuthority) notes.push('a @cert-authority line covers it, but clustrix cannot check host certificates, so add the plain key');
  const strict = ctx.strictHostKeyChecking;
  if (strict === 'no' || strict === 'off' || strict === 'accept-new') {
    notes.push(`StrictHostKeyChecking ${strict} in your ssh config does not apply here: clustrix always checks host keys`);
  }
  const checked = ctx.files.length > 0 ? ctx.files.map(displayPath).join(', ') : '(no known_hosts files)';
  return new SshError(
    'SSH_HOST_KEY_UNKNOWN',
    `the host key of ${name} is not known: the server presents ${type} ${fp}${notes.map((n) => `; ${n}`).join('')}\n  checked: ${checked}`,
    {
      ...details,
      hint: `make sure ${fp} is really that host's key (ask its administrators, or run \`ssh-keygen -lf /etc/ssh/ssh_host_${keyscanType(type)}_key.pub\` on it), ` +
        `then trust it with \`${keyscan}\`, or pass the option knownHostsFile, or pin it with hostKeyFingerprint: '${fp}'`,
    },
  );
}

/** The refusal for a pinned fingerprint that the presented key does not have. */
export function pinnedKeyRefusal(pinned: string, ctx: RefusalContext): SshError {
  const fp = fingerprintSha256(ctx.key);
  return new SshError(
    'SSH_HOST_KEY_CHANGED',
    `the host key of ${knownHostsName(ctx.host, ctx.port)} does not match hostKeyFingerprint: the server presents ${fp}, the option pins ${pinned}`,
    {
      target: ctx.target,
      fingerprint: fp,
      hint: `someone may be intercepting the connection, or the host was reinstalled: confirm ${fp} with its administrators before changing hostKeyFingerprint`,
    },
  );
}

function where(e: KnownHostsEntry): string {
  return `${displayPath(e.file)}:${e.line}`;
}

function displayPath(p: string): string {
  const home = homedir();
  return p.startsWith(`${home}/`) ? `~${p.slice(home.length)}` : p;
}
