import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseProxyJump, resolveSshTarget, SshConfig, SshError } from '../../coordinator/backends/ssh/index.js';
import { tempDir } from './ssh-env.js';

const config = (text: string) => SshConfig.parse(text, { file: 'cfg' });

describe('ssh_config lookup', () => {
  test('first obtained value wins; later Host * supplies what is left', () => {
    const c = config(`
Host login
  HostName login1.hpc.example.org
  User alice
Host *
  User nobody
  Port 2200
`);
    expect(c.lookup('login')).toMatchObject({ hostName: 'login1.hpc.example.org', user: 'alice', port: 2200 });
    expect(c.lookup('other')).toMatchObject({ user: 'nobody', port: 2200 });
    expect(c.lookup('other').hostName).toBeUndefined();
  });

  test('options before any Host apply to every host', () => {
    expect(config('User early\nHost x\n  User late\n').lookup('x').user).toBe('early');
  });

  test('patterns: *, ?, several per line, !negation, case-insensitive', () => {
    const c = config(`
Host *.hpc.example.org !bastion.hpc.example.org
  User hpcuser
Host node?? gpu*
  Port 2022
`);
    expect(c.lookup('login.hpc.example.org').user).toBe('hpcuser');
    expect(c.lookup('LOGIN.HPC.example.org').user).toBe('hpcuser');
    expect(c.lookup('bastion.hpc.example.org').user).toBeUndefined();
    expect(c.lookup('node01').port).toBe(2022);
    expect(c.lookup('node1').port).toBeUndefined();
    expect(c.lookup('gpu-a').port).toBe(2022);
  });

  test('a Host line with only negations matches nothing', () => {
    expect(config('Host !a\n  User u\n').lookup('b').user).toBeUndefined();
  });

  test('keyword=value, quoted values, comments, blank lines', () => {
    const c = config(`# comment
Host=x

  IdentityFile="/path with space/key"   # trailing comment
  port = 2201
`);
    expect(c.lookup('x')).toMatchObject({ identityFiles: ['/path with space/key'], port: 2201 });
  });

  test('IdentityFile accumulates across blocks; other keywords keep the first value', () => {
    const c = config('Host x\n IdentityFile ~/.ssh/a\n Port 1\nHost *\n IdentityFile ~/.ssh/b\n Port 2\n');
    expect(c.lookup('x')).toMatchObject({ identityFiles: ['~/.ssh/a', '~/.ssh/b'], port: 1 });
  });

  test('all the keywords clustrix uses', () => {
    const c = config(`Host x
  ProxyJump jump@bastion:2200,second
  UserKnownHostsFile ~/kh1 ~/kh2
  GlobalKnownHostsFile /etc/kh
  ServerAliveInterval 15
  ServerAliveCountMax 5
  ConnectTimeout 7
  IdentitiesOnly yes
  IdentityAgent /tmp/agent.sock
  StrictHostKeyChecking accept-new
  Ciphers aes256-ctr
`);
    expect(c.lookup('x')).toMatchObject({
      proxyJump: 'jump@bastion:2200,second',
      userKnownHostsFiles: ['~/kh1', '~/kh2'],
      globalKnownHostsFiles: ['/etc/kh'],
      serverAliveInterval: 15,
      serverAliveCountMax: 5,
      connectTimeout: 7,
      identitiesOnly: true,
      identityAgent: '/tmp/agent.sock',
      strictHostKeyChecking: 'accept-new',
    });
  });

  test('Match all / host / originalhost apply; unsupported criteria are skipped with a warning', () => {
    const c = config(`
Host short
  HostName long.example.org
Match host long.example.org
  User matched
Match exec "true"
  Port 1111
Match originalhost short
  Port 2222
Match all
  IdentityFile ~/all
`);
    const r = c.lookup('short');
    expect(r).toMatchObject({ user: 'matched', port: 2222, identityFiles: ['~/all'] });
    expect(r.warnings.join('\n')).toMatch(/cfg:6: Match exec is not supported/);
  });

  test('a bad value names the file and line', () => {
    const err = (() => {
      try {
        config('Host x\n  Port 99999\n').lookup('x');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SshError);
    expect((err as SshError).code).toBe('SSH_CONFIG');
    expect((err as SshError).message).toContain('cfg:2: bad port "99999"');
  });
});

describe('Include', () => {
  test('relative includes with globs are read in place, and their Host lines do not leak', () => {
    const { dir, cleanup } = tempDir('sshcfg');
    try {
      mkdirSync(join(dir, 'conf.d'));
      writeFileSync(join(dir, 'conf.d', '10-a.conf'), 'Host a\n  User from-a\n');
      writeFileSync(join(dir, 'conf.d', '20-b.conf'), 'Host b\n  User from-b\n');
      const main = 'Host a\n  Include conf.d/*.conf\n  Port 2001\nHost *\n  Include missing-file\n';
      const c = SshConfig.parse(main, { file: join(dir, 'config'), includeDir: dir });
      // The include ran inside `Host a`: its `Host b` block ends at the end of the file, so Port 2001 still applies to a.
      expect(c.lookup('a')).toMatchObject({ user: 'from-a', port: 2001 });
      // For b the Include sits in an inactive block: as in ssh, nothing in the included files applies.
      expect(c.lookup('b').user).toBeUndefined();
      expect(c.lookup('b').port).toBeUndefined();
    } finally {
      cleanup();
    }
  });

  test('an Include at top level applies its own Host blocks', () => {
    const { dir, cleanup } = tempDir('sshcfg');
    try {
      writeFileSync(join(dir, 'hosts.conf'), 'Host b\n  User from-b\n');
      const c = SshConfig.parse('Include hosts.conf\nHost *\n  Port 2002\n', { includeDir: dir });
      expect(c.lookup('b')).toMatchObject({ user: 'from-b', port: 2002 });
    } finally {
      cleanup();
    }
  });

  test('load() reads files in order (earlier wins) and ignores missing ones', () => {
    const { dir, cleanup } = tempDir('sshcfg');
    try {
      writeFileSync(join(dir, 'user'), 'Host *\n  User first\n');
      writeFileSync(join(dir, 'system'), 'Host *\n  User second\n  Port 2022\n');
      const c = SshConfig.load([join(dir, 'user'), join(dir, 'nope'), join(dir, 'system')]);
      expect(c.lookup('x')).toMatchObject({ user: 'first', port: 2022 });
    } finally {
      cleanup();
    }
  });
});

describe('resolveSshTarget: explicit options > ssh_config > defaults', () => {
  const cfg = config(`
Host hpc
  HostName %h.example.org
  User cfguser
  Port 2200
  IdentityFile ~/.ssh/id_%r_%h
  IdentityFile %d/keys/%u-%n
  UserKnownHostsFile ~/.ssh/kh_%h none
  ProxyJump jumper@bastion.example.org:2201
  ServerAliveInterval 10
  ConnectTimeout 5
  IdentitiesOnly yes
`);

  test('ssh_config fills what the options leave out, with tokens expanded', () => {
    const t = resolveSshTarget({ host: 'hpc', agent: false }, cfg);
    const home = homedir();
    expect(t).toMatchObject({
      alias: 'hpc',
      host: 'hpc.example.org',
      user: 'cfguser',
      port: 2200,
      identitiesOnly: true,
      identityFilesExplicit: true,
      keepaliveIntervalMs: 10_000,
      connectTimeoutMs: 5_000,
      proxyJump: [{ host: 'bastion.example.org', user: 'jumper', port: 2201 }],
    });
    expect(t.identityFiles[0]).toBe(join(home, '.ssh/id_cfguser_hpc.example.org'));
    expect(t.identityFiles[1]).toMatch(new RegExp(`^${home}/keys/.+-hpc$`));
    expect(t.knownHostsFiles).toEqual([join(home, '.ssh/kh_hpc.example.org'), '/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2']);
  });

  test('explicit options win over ssh_config', () => {
    const t = resolveSshTarget(
      { host: 'hpc', user: 'me', port: 22, identityFile: '/k', proxyJump: 'none', knownHostsFile: '/kh', keepaliveIntervalMs: 0, connectTimeoutMs: 1000, identitiesOnly: false, agent: false },
      cfg,
    );
    expect(t).toMatchObject({ host: 'hpc.example.org', user: 'me', port: 22, identityFiles: ['/k'], proxyJump: [], knownHostsFiles: ['/kh'], keepaliveIntervalMs: 0, connectTimeoutMs: 1000, identitiesOnly: false });
  });

  test('defaults when neither says anything', () => {
    const t = resolveSshTarget({ host: 'plain.example.org', agent: false }, config(''));
    const home = homedir();
    expect(t).toMatchObject({ host: 'plain.example.org', port: 22, identitiesOnly: false, identityFilesExplicit: false, keepaliveIntervalMs: 30_000, keepaliveCountMax: 3, connectTimeoutMs: 20_000, proxyJump: [] });
    expect(t.identityFiles).toEqual(['id_rsa', 'id_ecdsa', 'id_ed25519'].map((n) => join(home, '.ssh', n)));
    expect(t.knownHostsFiles).toContain(join(home, '.ssh/known_hosts'));
    expect(t.user.length).toBeGreaterThan(0);
  });

  test('the agent comes from the option, IdentityAgent, or SSH_AUTH_SOCK', () => {
    const saved = process.env.SSH_AUTH_SOCK;
    process.env.SSH_AUTH_SOCK = '/tmp/env-agent';
    try {
      expect(resolveSshTarget({ host: 'x' }, config('')).agent).toBe('/tmp/env-agent');
      expect(resolveSshTarget({ host: 'x' }, config('IdentityAgent none')).agent).toBeUndefined();
      expect(resolveSshTarget({ host: 'x' }, config('IdentityAgent ~/a.sock')).agent).toBe(join(homedir(), 'a.sock'));
      expect(resolveSshTarget({ host: 'x', agent: '/tmp/opt' }, config('IdentityAgent none')).agent).toBe('/tmp/opt');
      expect(resolveSshTarget({ host: 'x', agent: false }, config('')).agent).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.SSH_AUTH_SOCK;
      else process.env.SSH_AUTH_SOCK = saved;
    }
  });

  test('invalid options throw SSH_CONFIG with the exact message', () => {
    expect(() => resolveSshTarget({ host: 'x', port: 70000 }, config(''))).toThrow('option port must be an integer from 1 to 65535');
    expect(() => resolveSshTarget({ host: 'x', hostKeyFingerprint: 'MD5:aa' }, config(''))).toThrow(/option hostKeyFingerprint must be a SHA256 fingerprint/);
    expect(() => resolveSshTarget({ host: '' }, config(''))).toThrow('option host must be a non-empty string');
  });
});

describe('ProxyJump', () => {
  test('user@host:port lists, IPv6, ssh:// URIs and none', () => {
    expect(parseProxyJump('a')).toEqual([{ host: 'a', user: undefined, port: undefined }]);
    expect(parseProxyJump('u@a:2200, b ,ssh://v@c:22')).toEqual([
      { host: 'a', user: 'u', port: 2200 },
      { host: 'b', user: undefined, port: undefined },
      { host: 'c', user: 'v', port: 22 },
    ]);
    expect(parseProxyJump('u@[::1]:2222')).toEqual([{ host: '::1', user: 'u', port: 2222 }]);
    expect(parseProxyJump('none')).toEqual([]);
    expect(() => parseProxyJump('u@a:notaport')).toThrow(SshError);
  });
});
