// Invalid values and unknown keys: a ConfigError naming file:line:col, the key path, what is
// allowed there and what the file holds instead. Messages are pinned exactly.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../coordinator/errors/errors.js';
import { loadConfig } from '../../coordinator/config/index.js';
import { fixture, thrown, useTempDirs } from './helpers.js';

const tempDir = useTempDirs();

/** loadConfig's error for a file holding `text`, with the file's path replaced by `FILE`. */
function errorFor(text: string): string {
  const file = join(tempDir({ 'c.yaml': text }), 'c.yaml');
  const err = thrown(() => loadConfig(file));
  expect(err).toBeInstanceOf(ConfigError);
  expect(err.code).toBe('CONFIG_INVALID');
  return err.message.replaceAll(file, 'FILE');
}

const SSH_KEYS =
  'host, port, user, identityFile, identitiesOnly, agent, proxyJump, knownHostsFile, hostKeyFingerprint, keepaliveIntervalMs, keepaliveCountMax, connectTimeoutMs, configFile';

describe('from the fixtures', () => {
  it('an unknown key lists the allowed keys and the near miss', () => {
    const file = fixture('unknown-key.yaml');
    expect(thrown(() => loadConfig(file)).message).toBe(
      `${file}:5:7: profiles.hpc.ssh.hots: unknown key (allowed: ${SSH_KEYS}); did you mean 'host'?`,
    );
  });

  it('a wrong type says what is expected and what was found', () => {
    const file = fixture('wrong-type.yaml');
    expect(thrown(() => loadConfig(file)).message).toBe(
      `${file}:5:20: profiles.hpc.resources.cpusPerTask: expected a positive integer, got "eight"`,
    );
  });

  it('a bad backend or connect lists the allowed values', () => {
    const file = fixture('bad-enums.yaml');
    expect(thrown(() => loadConfig(file)).message).toBe(
      `${file}:3:14: profiles.hpc.backend: expected one of 'local', 'ssh', 'slurm', 'pbs', 'sge', 'kubernetes', got "slrum"; did you mean 'slurm'?\n` +
        `${file}:4:14: profiles.hpc.connect: expected one of 'direct', 'tunnel', got "vpn"`,
    );
  });
});

describe('unknown keys', () => {
  it.each([
    [
      'profiles:\n  hpc:\n    backnd: slurm\n',
      `FILE:3:5: profiles.hpc.backnd: unknown key (allowed: backend, agents, slots, ssh, hosts, resources, setup, node, uploadNode, remoteDir, binDir, jobName, maxArraySize, connect, relayHost, slurm, pbs, sge, kubernetes, host, port, advertiseHost, retries, heartbeatMs, agentGraceMs, startTimeoutMs, recoveryTimeoutMs, maxPipelinePerSlot, maxFrameBytes, objectStoreBytes, objectSpillBytes, inlineConcurrency, historyEntries, historyBytes, dashboard, replaceLostAgents, adapt, agentResources, tls, pools); did you mean 'backend'?`,
    ],
    [
      'profiles:\n  hpc:\n    resources:\n      cpuPerTask: 4\n',
      `FILE:4:7: profiles.hpc.resources.cpuPerTask: unknown key (allowed: nodes, cpusPerTask, memory, time, partition, queue, account, qos, gpus, extraDirectives); did you mean 'cpusPerTask'?`,
    ],
    [
      'profiles:\n  hpc:\n    resources:\n      walltime: 60\n',
      `FILE:4:7: profiles.hpc.resources.walltime: unknown key (allowed: nodes, cpusPerTask, memory, time, partition, queue, account, qos, gpus, extraDirectives)`,
    ],
    [
      'profiles:\n  w:\n    hosts:\n      - host: a\n        maxAgent: 2\n',
      `FILE:5:9: profiles.w.hosts[0].maxAgent: unknown key (allowed: ${SSH_KEYS}, maxAgents); did you mean 'maxAgents'?`,
    ],
    ['profiles:\n  s:\n    slurm: { acounting: none }\n', `FILE:3:14: profiles.s.slurm.acounting: unknown key (allowed: accounting); did you mean 'accounting'?`],
    [
      'profiles:\n  k:\n    kubernetes:\n      tolerations:\n        - { key: gpu, efect: NoSchedule }\n',
      `FILE:5:23: profiles.k.kubernetes.tolerations[0].efect: unknown key (allowed: key, operator, value, effect, tolerationSeconds); did you mean 'effect'?`,
    ],
    // One mistake, one report: the near miss stands for the missing 'profiles' too.
    ['profile:\n  a: {}\n', `FILE:1:1: profile: unknown key (allowed: profiles, default); did you mean 'profiles'?`],
    ['profiles:\n  a:\n    profile: b\n', `FILE:3:5: profiles.a.profile: unknown key (allowed: backend, agents, slots, ssh, hosts, resources, setup, node, uploadNode, remoteDir, binDir, jobName, maxArraySize, connect, relayHost, slurm, pbs, sge, kubernetes, host, port, advertiseHost, retries, heartbeatMs, agentGraceMs, startTimeoutMs, recoveryTimeoutMs, maxPipelinePerSlot, maxFrameBytes, objectStoreBytes, objectSpillBytes, inlineConcurrency, historyEntries, historyBytes, dashboard, replaceLostAgents, adapt, agentResources, tls, pools)`],
  ])('%j', (text, message) => {
    expect(errorFor(text)).toBe(message);
  });
});

describe('bad values', () => {
  it.each([
    ['profiles:\n  a:\n    agents: 0\n', `FILE:3:13: profiles.a.agents: expected a positive integer for the local backend (0 only for a remote backend, grown later by scale() or adapt()), got 0`],
    ['profiles:\n  a:\n    agents: -1\n', `FILE:3:13: profiles.a.agents: expected a non-negative integer, got -1`],
    ['profiles:\n  a:\n    agents: 2.5\n', `FILE:3:13: profiles.a.agents: expected a non-negative integer, got 2.5`],
    ['profiles:\n  a:\n    agents:\n', `FILE:3:12: profiles.a.agents: expected a non-negative integer, got null`],
    ['profiles:\n  a:\n    heartbeatMs: 5s\n', `FILE:3:18: profiles.a.heartbeatMs: expected a whole number of milliseconds from 50 to 2147483647 (the longest timer Node can set), got "5s"`],
    ['profiles:\n  a:\n    port: 70000\n', `FILE:3:11: profiles.a.port: expected an integer from 0 to 65535 (0: any free port), got 70000`],
    ['profiles:\n  a:\n    connect: tunel\n', `FILE:3:14: profiles.a.connect: expected one of 'direct', 'tunnel', got "tunel"; did you mean 'tunnel'?`],
    ['profiles:\n  a:\n    replaceLostAgents: yes\n', `FILE:3:24: profiles.a.replaceLostAgents: expected true or false, got "yes"`],
    ['profiles:\n  a:\n    setup: module load x\n', `FILE:3:12: profiles.a.setup: expected a list of shell lines, got "module load x"`],
    ['profiles:\n  a:\n    ssh: login1\n', `FILE:3:10: profiles.a.ssh: expected a mapping of ssh options (host, port, user, identityFile, ...), got "login1"`],
    ['profiles:\n  a:\n    ssh: { user: ada }\n', `FILE:3:10: profiles.a.ssh.host: missing, expected a host name, address or ssh_config Host alias`],
    ['profiles:\n  a:\n    ssh: { host: h, port: "22" }\n', `FILE:3:27: profiles.a.ssh.port: expected an integer from 1 to 65535, got "22"`],
    ['profiles:\n  a:\n    ssh: { host: h, agent: true }\n', `FILE:3:28: profiles.a.ssh.agent: expected an ssh-agent socket path, or false for none, got true`],
    ['profiles:\n  a:\n    resources: { memory: lots }\n', `FILE:3:26: profiles.a.resources.memory: expected a positive number of MB or a size such as '4G' or '512M', got "lots"`],
    ['profiles:\n  a:\n    resources: { time: "25:99:00" }\n', `FILE:3:24: profiles.a.resources.time: expected a positive number of minutes, 'HH:MM:SS' or 'D-HH:MM:SS', got "25:99:00"`],
    ['profiles:\n  a:\n    hosts: []\n', `FILE:3:12: profiles.a.hosts: expected a non-empty list of hosts, got a list`],
    ['profiles:\n  a:\n    hosts: [7]\n', `FILE:3:13: profiles.a.hosts[0]: expected a host ('alias' or 'user@host:port') or a mapping of ssh options, got 7`],
    ['profiles:\n  a:\n    hosts: [{ host: h, port: 0 }]\n', `FILE:3:30: profiles.a.hosts[0].port: expected an integer from 1 to 65535, got 0`],
    ['profiles:\n  a:\n    tls: { cert: c.pem }\n', `FILE:3:10: profiles.a.tls.key: missing, expected a PEM file path`],
    ['profiles:\n  a:\n    tls: on\n', `FILE:3:10: profiles.a.tls: expected true, false, or a mapping of cert and key PEM file paths, got "on"`],
    ['profiles:\n  a:\n    maxArraySize: 0\n', `FILE:3:19: profiles.a.maxArraySize: expected a positive integer, got 0`],
    ['profiles:\n  a:\n    jobName: 9lives\n', `FILE:3:14: profiles.a.jobName: expected a name of at most 32 letters, digits, '.', '_' or '-', starting with a letter, got "9lives"`],
    ['profiles:\n  a:\n    pbs: { resourceStyle: pbs-pro }\n', `FILE:3:27: profiles.a.pbs.resourceStyle: expected one of 'torque', 'pbspro', got "pbs-pro"; did you mean 'pbspro'?`],
    ['profiles:\n  a:\n    kubernetes: { cpu: lots }\n', `FILE:3:24: profiles.a.kubernetes.cpu: expected a positive number of cores or a Kubernetes quantity such as '500m', got "lots"`],
    ['profiles:\n  a:\n    kubernetes: { labels: { app.kubernetes.io/team: 7 } }\n', `FILE:3:53: profiles.a.kubernetes.labels["app.kubernetes.io/team"]: expected a string, got 7`],
    ['profiles:\n  My Profile: {}\n', `FILE:2:3: profiles["My Profile"]: expected a profile name (letters, digits, '_' and '-'), got "My Profile"`],
    ['profiles: [a, b]\n', `FILE:1:11: profiles: expected a mapping of profile names to profiles, got a list`],
    ['', `FILE: expected a mapping with profiles: (and optionally default:), got null`],
  ])('%j', (text, message) => {
    expect(errorFor(text)).toBe(message);
  });

  it('lists every problem, in file order', () => {
    expect(errorFor('profiles:\n  b:\n    retries: -1\n  a:\n    agents: x\n    slots: 0\n')).toBe(
      'FILE:3:14: profiles.b.retries: expected a non-negative integer, got -1\n' +
        'FILE:5:13: profiles.a.agents: expected a non-negative integer, got "x"\n' +
        'FILE:6:12: profiles.a.slots: expected a positive integer, got 0',
    );
  });

  it('stops listing after ten problems', () => {
    const text = `profiles:\n${Array.from({ length: 12 }, (_, i) => `  p${i}: { agents: 0 }\n`).join('')}`;
    const lines = errorFor(text).split('\n');
    expect(lines).toHaveLength(11);
    expect(lines[9]).toBe('FILE:11:17: profiles.p9.agents: expected a positive integer for the local backend (0 only for a remote backend, grown later by scale() or adapt()), got 0');
    expect(lines[10]).toBe('... and 2 more');
  });

  it('a default that names no profile lists the profiles there are', () => {
    expect(errorFor('default: hcp\nprofiles:\n  hpc: {}\n  local: {}\n')).toBe(
      `FILE:1:10: default: no profile 'hcp' (profiles: hpc, local); did you mean 'hpc'?`,
    );
  });
});
