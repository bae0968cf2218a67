/**
 * What a profile of the config file may hold: the options of `Cluster.start()` that make sense in a
 * file, derived from the one options schema (options-schema.ts), so a value is checked by the same
 * rule and refused in the same words as in code. Strict, because a misspelt key (`cpusPerTsk`)
 * that is silently ignored costs a user a queued job that asked for the wrong thing.
 *
 * Left out on purpose:
 * - `onLog`: a function has no YAML form.
 * - `profile`, `configFile`: a profile does not name another profile or file.
 * - `token`, `ssh.privateKey`, `ssh.passphrase`: a config file is shared and committed; secrets are
 *   refused with a message that says where they belong instead.
 */
import { z } from 'zod';
import { clusterChecks, clusterOptionsShape, poolNameSchema, poolOptionsShape, profileNameSchema, type ClusterOptions } from './options-schema.js';
import { hostsFileSchema, sshFileSchema } from './ssh-schema.js';
import { forbidden, mapping, type Assignable } from './schema-kit.js';

/** One pool of a profile's `pools`: its SSH settings without secrets, as the profile's own. */
const poolFileSchema = poolOptionsShape.extend({ ssh: sshFileSchema.optional(), hosts: hostsFileSchema.optional() }).superRefine(clusterChecks);

/** One profile: the `Cluster.start()` options it sets. */
export const profileSchema = clusterOptionsShape
  .omit({ onLog: true, profile: true, configFile: true })
  .extend({
    ssh: sshFileSchema.optional(),
    hosts: hostsFileSchema.optional(),
    pools: z
      .record(poolNameSchema, poolFileSchema, mapping('pool names to pool options'))
      .refine((p) => Object.keys(p).length >= 1 && Object.keys(p).length <= 64, { error: 'a mapping of pool names to pool options (1 to 64 pools)' })
      .optional(),
    token: forbidden(
      'not allowed in a config file: a secret does not belong in a shared file; leave it out (each cluster makes ' +
        'its own random token), or pass token to Cluster.start() from the environment',
    ).optional(),
  })
  .superRefine(clusterChecks);

/** The options one profile sets: valid `ClusterOptions` (the file only narrows them). */
export type ProfileOptions = Assignable<z.infer<typeof profileSchema>, ClusterOptions>;

/** The whole file. `default` names the profile used when none is named (see config-file.ts). */
export const configFileSchema = z.strictObject(
  {
    profiles: z.record(profileNameSchema, profileSchema, mapping('profile names to profiles')),
    default: profileNameSchema.optional(),
  },
  { error: 'a mapping with profiles: (and optionally default:)' },
);
