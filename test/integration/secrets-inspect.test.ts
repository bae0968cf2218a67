// Objects that hold a secret print a short summary instead: util.inspect (any depth, showHidden),
// console.log and JSON.stringify show neither the secret nor its sha256 (hex, base64 or bytes).
import { Console } from 'node:console';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'clustrix';
type ClusterClient = Cluster;
import { resolveClusterOptions } from '../../coordinator/config/options.js';
import { SshConnection, SshShell } from '../../coordinator/backends/ssh/index.js';
import { SSH, sshAvailable, sshOptions } from '../ssh/ssh-env.js';

// The service is not public API; it comes from the build, as `clustrix up` runs it (its agents need dist/).
type ServiceModule = typeof import('../../coordinator/service/service.js');
const { ClusterService } = (await import(new URL('../../dist/coordinator/service/service.js', import.meta.url).href)) as ServiceModule;
type ClusterService = Awaited<ReturnType<ServiceModule['ClusterService']['start']>>;

const TOKEN = 'inspect-token-5b0c3e8d1f2a4967';
const SERVICE_TOKEN = 'inspect-service-token-8e1d2c3b4a59';
const PASSPHRASE = 'inspect-passphrase-never-printed';

/** A secret and the forms of its sha256 a digest could be printed in. */
function forms(secret: string): string[] {
  const digest = createHash('sha256').update(secret).digest();
  const bytes = [...digest.subarray(0, 8)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return [secret, digest.toString('hex'), digest.toString('base64'), digest.toString('base64url'), bytes];
}

/** Every way a program might print `value`. */
function printed(value: unknown): Record<string, string> {
  let logged = '';
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => ((logged += chunk.toString()), done()) });
  new Console(sink).log(value);
  let json: string;
  try {
    json = JSON.stringify(value) ?? '';
  } catch (err) {
    json = `JSON.stringify threw: ${(err as Error).message}`;
  }
  return {
    'inspect (depth Infinity, showHidden)': inspect(value, { depth: Infinity, showHidden: true, maxArrayLength: Infinity, maxStringLength: Infinity }),
    inspect: inspect(value),
    'console.log': logged,
    'JSON.stringify': json,
  };
}

function expectHidden(value: unknown, what: string, secrets: readonly string[]): void {
  for (const [how, text] of Object.entries(printed(value))) {
    expect(text, `${what}: ${how}`).not.toMatch(/^JSON.stringify threw/);
    for (const secret of secrets.flatMap(forms)) expect(text.includes(secret), `${what}: ${how} shows ${secret}`).toBe(false);
  }
}

/** The lines of a PEM/OpenSSH key body, each long enough to be unmistakable. */
function keyLines(pem: string): string[] {
  return pem.split('\n').filter((l) => l.length >= 20 && !l.startsWith('-----'));
}

const internal = (o: object, field: string): unknown => (o as Record<string, unknown>)[field];
/** A part of an embedded cluster's engine (behind its transport). */
const engineOf = (c: Cluster, field: string): object => internal(internal(internal(c, 'transport') as object, 'engine') as object, field) as object;

let cluster: Cluster;
let tlsKey: string;
let service: ClusterService;
let client: ClusterClient;

beforeAll(async () => {
  cluster = await Cluster.start({ agents: 1, slots: 1, token: TOKEN, tls: true });
  tlsKey = ((internal(engineOf(cluster, 'server'), 'options') as { tls: { key: string } }).tls).key;
  service = await ClusterService.start({ profile: 'inspect', cluster: { agents: 1, slots: 1, token: SERVICE_TOKEN }, writeStateFile: false });
  client = await Cluster.connect({ address: service.address, credential: service.credential });
});
afterAll(async () => {
  await client?.close();
  await service?.stop('test done');
  await cluster?.close();
});

describe('a Cluster', () => {
  it('prints its id, backend and agents, and neither its token nor its TLS key', () => {
    expectHidden(cluster, 'Cluster', [TOKEN, ...keyLines(tlsKey)]);
    expect(inspect(cluster)).toBe(`Cluster { id: '${cluster.id}', mode: 'embedded', backend: 'local', agents: 1 }`);
    expect(JSON.parse(JSON.stringify(cluster))).toEqual({ id: cluster.id, mode: 'embedded', backend: 'local', agents: 1 });
  });

  it('keeps them out of its engine, the resolved options and the agent server', () => {
    expectHidden(internal(internal(cluster, 'transport') as object, 'engine'), 'Engine', [TOKEN, ...keyLines(tlsKey)]);
    expectHidden(engineOf(cluster, 'options'), 'resolved options', [TOKEN, ...keyLines(tlsKey)]);
    expectHidden(engineOf(cluster, 'server'), 'AgentServer', [TOKEN, ...keyLines(tlsKey)]);
  });
});

describe('resolved options with SSH secrets', () => {
  it('show neither the passphrase nor the private key', () => {
    // Only resolved, never parsed: key-shaped text is enough.
    const body = randomBytes(150).toString('base64').match(/.{1,70}/g)!.join('\n');
    const privateKey = `-----BEGIN OPENSSH PRIVATE KEY-----\n${body}\n-----END OPENSSH PRIVATE KEY-----\n`;
    const hosts = [{ host: 'h1', passphrase: PASSPHRASE, privateKey }];
    const resolved = resolveClusterOptions({ backend: 'slurm', token: TOKEN, ssh: { host: 'login', passphrase: PASSPHRASE, privateKey }, hosts });
    expectHidden(resolved, 'resolved options', [TOKEN, PASSPHRASE, ...keyLines(privateKey)]);
    expect(inspect(resolved)).toBe("ClusterOptions { backend: 'slurm', agents: 1 }");
  });
});

describe('the service and its clients', () => {
  it('a ClusterService shows neither its credential nor its pool token', () => {
    expectHidden(service, 'ClusterService', [service.credential, SERVICE_TOKEN]);
    expect(inspect(service, { breakLength: Infinity })).toMatch(/^ClusterService \{ serviceId: '\w+', profile: 'inspect', backend: 'local', address: 'ws:\/\/127\.0\.0\.1:\d+', clients: 1 \}$/);
  });

  it('a connected Cluster and its transport show no credential', () => {
    expectHidden(client, 'connected Cluster', [service.credential]);
    expectHidden(internal(client, 'transport'), 'RemoteTransport', [service.credential]);
    expect(inspect(client)).toBe(`Cluster { id: '${client.id}', mode: 'connected', backend: 'local', agents: 1 }`);
    expect(inspect(internal(client, 'transport'))).toBe(`RemoteTransport { id: '${client.id}', address: '${service.address}' }`);
  });
});

describe.skipIf(!sshAvailable)('SSH connections', () => {
  it('an SshShell and its SshConnection show neither the inline key nor the passphrase', async () => {
    const privateKey = readFileSync(SSH.key, 'utf8');
    const shell = await SshShell.connect(sshOptions({ identityFile: [], privateKey, passphrase: PASSPHRASE }));
    try {
      expect((await shell.exec('echo in')).stdout).toBe('in\n');
      expectHidden(shell, 'SshShell', [PASSPHRASE, ...keyLines(privateKey)]);
      expectHidden(shell.connection, 'SshConnection', [PASSPHRASE, ...keyLines(privateKey)]);
      expect(inspect(shell)).toBe(`SshShell { target: '${shell.description}' }`);
      expect(shell.connection).toBeInstanceOf(SshConnection);
    } finally {
      await shell.close();
    }
  });
});
