/**
 * Builds the list of authentication attempts ssh2 makes, in OpenSSH's order: an inline key, then
 * ssh-agent, then key files. Keys are decrypted here so that only parsed keys reach ssh2 and the
 * passphrase goes nowhere else; each attempt and each skipped key gets a label for SSH_AUTH
 * messages (paths and socket names only, never key material or passphrases).
 */
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import ssh2 from 'ssh2';
import type { AnyAuthMethod, IdentityCallback, ParsedKey } from 'ssh2';
import type { ResolvedSshTarget } from './options.js';

export interface AuthSecrets {
  privateKey?: string | Buffer | undefined;
  passphrase?: string | undefined;
}

export interface AuthPlan {
  methods: AnyAuthMethod[];
  /** One label per method, same order: what SSH_AUTH says was tried. */
  tried: string[];
  /** Keys that could not be offered, with the reason. */
  skipped: string[];
}

export const PASSPHRASE_ENV = 'CLUSTRIX_SSH_PASSPHRASE';

export async function planAuth(target: ResolvedSshTarget, secrets: AuthSecrets): Promise<AuthPlan> {
  const passphrase = secrets.passphrase ?? (process.env[PASSPHRASE_ENV] || undefined);
  const username = target.user;
  const plan: AuthPlan = { methods: [], tried: [], skipped: [] };
  const fileKeys: { file: string; key: ParsedKey }[] = [];
  // Public halves of the configured identities, for IdentitiesOnly's agent filter.
  const identityPublics: Buffer[] = [];

  if (secrets.privateKey !== undefined) {
    const key = decrypt(secrets.privateKey, passphrase, 'the privateKey option', plan.skipped);
    if (key) {
      plan.methods.push({ type: 'publickey', username, key });
      plan.tried.push('publickey (privateKey option)');
      identityPublics.push(key.getPublicSSH());
    }
  }

  for (const file of target.identityFiles) {
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (err) {
      // Default key names that do not exist are normal; a key the user named is worth a note.
      if (target.identityFilesExplicit) plan.skipped.push(`${file} (${(err as { code?: string }).code ?? 'unreadable'})`);
      continue;
    }
    const asPublic = publicKeyOf(data);
    if (asPublic) {
      // IdentityFile may name a public key whose private half lives in the agent, as ssh allows.
      identityPublics.push(asPublic);
      if (target.agent === undefined) plan.skipped.push(`${file} (a public key; its private half must be in ssh-agent, and no agent is set)`);
      continue;
    }
    const pub = await readPublicHalf(file);
    if (pub) identityPublics.push(pub);
    const key = decrypt(data, passphrase, file, plan.skipped);
    if (key) {
      fileKeys.push({ file, key });
      identityPublics.push(key.getPublicSSH());
    }
  }

  if (target.agent !== undefined) {
    if (existsSync(target.agent)) {
      const agent = target.identitiesOnly ? new FilteredAgent(target.agent, identityPublics) : target.agent;
      plan.methods.push({ type: 'agent', username, agent });
      plan.tried.push(`agent ${target.agent}${target.identitiesOnly ? ' (keys matching the identity files only)' : ''}`);
    } else {
      plan.skipped.push(`agent ${target.agent} (no such socket)`);
    }
  }

  for (const { file, key } of fileKeys) {
    plan.methods.push({ type: 'publickey', username, key });
    plan.tried.push(`publickey ${file}`);
  }
  return plan;
}

/** Parses a key, decrypting it when needed; records why not when it cannot. */
function decrypt(data: string | Buffer, passphrase: string | undefined, label: string, skipped: string[]): ParsedKey | undefined {
  let parsed = ssh2.utils.parseKey(data, passphrase);
  if (Array.isArray(parsed)) parsed = parsed[0] as ParsedKey | Error; // some formats hold several keys; ssh uses the first
  if (parsed instanceof Error) {
    const msg = parsed.message;
    if (/no passphrase given/i.test(msg)) {
      skipped.push(`${label} (encrypted; give its passphrase in the passphrase option or env ${PASSPHRASE_ENV}, or load it into ssh-agent)`);
    } else if (/bad passphrase|integrity check failed|decrypt/i.test(msg)) {
      skipped.push(`${label} (the passphrase given does not decrypt it)`);
    } else {
      // ssh2's parse messages name the format problem only, never key bytes.
      skipped.push(`${label} (not a usable private key: ${msg})`);
    }
    return undefined;
  }
  if (!parsed.isPrivateKey()) {
    skipped.push(`${label} (a public key, not a private key)`);
    return undefined;
  }
  return parsed;
}

async function readPublicHalf(file: string): Promise<Buffer | undefined> {
  try {
    return publicKeyOf(await readFile(`${file}.pub`));
  } catch {
    return undefined;
  }
}

/** The key blob when `data` is a public key (`ssh-ed25519 AAAA... comment`), else undefined. */
function publicKeyOf(data: Buffer): Buffer | undefined {
  if (!/^(ssh-|ecdsa-|sk-)/.test(data.subarray(0, 16).toString('latin1'))) return undefined;
  let parsed = ssh2.utils.parseKey(data);
  if (Array.isArray(parsed)) parsed = parsed[0] as ParsedKey | Error;
  return parsed instanceof Error || parsed.isPrivateKey() ? undefined : parsed.getPublicSSH();
}

/**
 * IdentitiesOnly with an agent: ssh offers only the agent's keys that match configured identities,
 * which keeps a full agent from exhausting the server's MaxAuthTries.
 */
class FilteredAgent extends ssh2.OpenSSHAgent {
  constructor(socketPath: string, private readonly allowed: Buffer[]) {
    super(socketPath);
  }

  override getIdentities(cb: IdentityCallback<ParsedKey>): void {
    super.getIdentities((err, keys) => {
      if (err) return cb(err);
      // OpenSSHAgent hands back parsed keys; anything else cannot be compared, so it is left out.
      const parsed = ((keys ?? []) as unknown[]).filter((k): k is ParsedKey => typeof (k as Partial<ParsedKey>).getPublicSSH === 'function');
      cb(undefined, parsed.filter((k) => this.allowed.some((a) => a.equals(k.getPublicSSH()))));
    });
  }
}
