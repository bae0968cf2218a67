/**
 * `ssh` (the login node) and `hosts` (the ssh backend's machines) as Cluster.start() takes them,
 * and the same for a config file, where the inline secrets are refused with where they belong.
 */
import { z } from 'zod';
import type { SshOptions } from '../backends/ssh/options.js';
import { as, flag, forbidden, int, mapping, ms, nonEmpty, nonNegativeInt, oneOrMore, positiveInt, secret, type Differences, type None } from './schema-kit.js';

/** One `hosts` entry: an ssh_config alias or `user@host:port`, or full ssh options and a cap. */
export type SshHostOption = string | (SshOptions & { maxAgents?: number });

const FINGERPRINT = "a fingerprint like 'SHA256:' followed by 43 base64 characters";

const sshObject = z.strictObject(
  {
    host: nonEmpty('a host name, address or ssh_config Host alias'),
    port: int(1, 'an integer from 1 to 65535', 65_535).optional(),
    user: nonEmpty().optional(),
    identityFile: oneOrMore('a key file path, or a list of them').optional(),
    privateKey: secret<string | Buffer>("a private key's text (a string or a Buffer)", (v) => typeof v === 'string' || Buffer.isBuffer(v)).optional(),
    passphrase: secret<string>('a string', (v) => typeof v === 'string').optional(),
    identitiesOnly: flag().optional(),
    agent: z.union([nonEmpty('an ssh-agent socket path, or false for none'), z.literal(false)], { error: 'an ssh-agent socket path, or false for none' }).optional(),
    proxyJump: nonEmpty("'[user@]host[:port]', comma separated, or 'none'").optional(),
    knownHostsFile: oneOrMore('a known_hosts file path, or a list of them').optional(),
    // The form `ssh-keygen -lf` prints (ssh/options.ts checks it again for direct callers).
    hostKeyFingerprint: z.string({ error: FINGERPRINT }).regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, { error: FINGERPRINT }).optional(),
    keepaliveIntervalMs: ms(0).optional(),
    keepaliveCountMax: nonNegativeInt().optional(),
    connectTimeoutMs: ms(0).optional(),
    configFile: z.union([nonEmpty('an ssh config file path, or false for none'), z.literal(false)], { error: 'an ssh config file path, or false for none' }).optional(),
  },
  mapping('ssh options (host, port, user, identityFile, ...)'),
);
type _SshMirrored = None<Differences<SshOptions, z.input<typeof sshObject>>>;

/** Secrets in a shared, committed file: refused, each saying where it belongs instead. */
const fileSecrets = {
  privateKey: forbidden(
    'not allowed in a config file: a private key does not belong in a shared file; point identityFile at the key file ' +
      '(an encrypted key is unlocked by ssh-agent or the CLUSTRIX_SSH_PASSPHRASE environment variable)',
  ).optional(),
  passphrase: forbidden(
    'not allowed in a config file: a secret does not belong in a shared file; set the CLUSTRIX_SSH_PASSPHRASE ' +
      'environment variable, or load the identityFile key into ssh-agent',
  ).optional(),
};

const HOST = "a host ('alias' or 'user@host:port') or a mapping of ssh options";
const hostList = <S extends z.core.$ZodLooseShape>(ssh: S) =>
  z
    .array(z.union([nonEmpty(), z.strictObject({ ...ssh, maxAgents: positiveInt().optional() }, mapping('ssh options and maxAgents'))], { error: HOST }), {
      error: 'a list of hosts',
    })
    .min(1, { error: 'a non-empty list of hosts' })
    .readonly();

/** `ssh`: the login node (slurm, pbs, sge) or the connection options of one host. */
export const sshSchema = as<SshOptions>(sshObject);
/** `hosts`. */
export const hostsSchema = as<readonly SshHostOption[]>(hostList(sshObject.shape));

/** `ssh` in a config file. */
export const sshFileSchema = sshObject.extend(fileSecrets);
/** `hosts` in a config file. */
export const hostsFileSchema = hostList(sshFileSchema.shape);
