// One options schema, one message builder: a bad value says the same thing whether it was passed to
// Cluster.start() in code or written in a profile of the config file (which only adds where).
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Cluster, ConfigError, type ClusterOptions } from 'clustrix';
import { useTempDirs } from './helpers.js';

const tempDir = useTempDirs();

/** The error Cluster.start(options) is refused with; closes a cluster that started, so none leaks. */
async function refusal(options: ClusterOptions): Promise<ConfigError> {
  let err: unknown;
  try {
    const cluster = await Cluster.start(options);
    await cluster.close();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).code).toBe('CONFIG_INVALID');
  return err as ConfigError;
}

/** The message for `options` passed in code, after its `options.`. */
async function fromCode(options: Record<string, unknown>): Promise<string> {
  const { message } = await refusal(options as ClusterOptions);
  expect(message).toMatch(/^options\./);
  return message.replace(/^options\./, '');
}

/** The message for a profile holding `yaml`, used by Cluster.start({ profile }), after `FILE:line:col: profiles.a.`. */
async function fromFile(yaml: string): Promise<string> {
  const file = join(tempDir({ 'c.yaml': `profiles:\n  a:\n    ${yaml}\n` }), 'c.yaml');
  const { message } = await refusal({ configFile: file, profile: 'a' });
  const prefix = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: profiles\\.a\\.`);
  expect(message).toMatch(prefix);
  return message.replace(prefix, '');
}

describe('the same bad value, in code and in a profile', () => {
  it.each([
    [{ agents: 0 }, 'agents: 0', 'agents: expected a positive integer for the local backend (0 only for a remote backend, grown later by scale() or adapt()), got 0'],
    [{ heartbeatMs: '5s' }, 'heartbeatMs: 5s', 'heartbeatMs: expected a whole number of milliseconds from 50 to 2147483647 (the longest timer Node can set), got "5s"'],
    [{ resources: { memory: 'lots' } }, 'resources: { memory: lots }', `resources.memory: expected a positive number of MB or a size such as '4G' or '512M', got "lots"`],
    [
      { resources: { cpuPerTask: 4 } },
      'resources: { cpuPerTask: 4 }',
      "resources.cpuPerTask: unknown key (allowed: nodes, cpusPerTask, memory, time, partition, queue, account, qos, gpus, extraDirectives); did you mean 'cpusPerTask'?",
    ],
    [{ backend: 'slurmm' }, 'backend: slurmm', `backend: expected one of 'local', 'ssh', 'slurm', 'pbs', 'sge', 'kubernetes', got "slurmm"; did you mean 'slurm'?`],
    [{ ssh: { host: 'h', port: '22' } }, 'ssh: { host: h, port: "22" }', 'ssh.port: expected an integer from 1 to 65535, got "22"'],
    [{ tls: 'on' }, 'tls: on', 'tls: expected true, false, or a mapping of cert and key PEM file paths, got "on"'],
    [{ backend: 'sge', resources: { qos: 'high' } }, 'backend: sge\n    resources: { qos: high }', 'resources.qos: a SLURM setting; sge has no quality of service'],
    [
      { backend: 'kubernetes', kubernetes: { namespace: 'Science' } },
      'backend: kubernetes\n    kubernetes: { namespace: Science }',
      'kubernetes.namespace: expected a DNS label (lower-case letters, digits and -, at most 63 characters), got "Science"',
    ],
  ])('%j', async (options, yaml, message) => {
    const [code, file] = [await fromCode(options), await fromFile(yaml)];
    expect(code).toBe(message);
    expect(file).toBe(message);
  });

  it('an unknown top-level key: the same near miss; code also allows the keys a file cannot hold', async () => {
    const code = await fromCode({ agent: 2 });
    const file = await fromFile('agent: 2');
    const allowed = (text: string): string[] => /\(allowed: ([^)]*)\)/.exec(text)?.[1]?.split(', ') ?? [];
    expect(code.replace(/\(allowed: [^)]*\)/, '(...)')).toBe("agent: unknown key (...); did you mean 'agents'?");
    expect(file.replace(/\(allowed: [^)]*\)/, '(...)')).toBe("agent: unknown key (...); did you mean 'agents'?");
    expect(allowed(code).filter((k) => !allowed(file).includes(k))).toEqual(['profile', 'configFile', 'token', 'onLog']);
  });
});
