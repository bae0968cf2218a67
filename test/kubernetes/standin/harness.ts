/**
 * Test plumbing around the stand-in API server: a kubeconfig file pointing at it, the Role rules
 * from deploy/kubernetes/rbac.yaml, and a WebSocket endpoint standing in for the coordinator that
 * records each agent's hello. Not a live cluster.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { WebSocketServer, type WebSocket } from 'ws';
import { StandinApiServer, type PolicyRule, type StandinOptions } from './server.js';

const repo = new URL('../../../', import.meta.url);

/**
 * What a pod's image entrypoint runs. The fake agent checks the env contract and dials back; once
 * the coordinator's side exists, `[process.execPath, 'dist/bundle/agent.cjs']` runs the real agent
 * through the same path (the agent and fake agent read the same variables).
 */
export const FAKE_AGENT = [process.execPath, fileURLToPath(new URL('test/fixtures/kubernetes/fake-agent.mjs', repo))];

export function rbacRules(): PolicyRule[] {
  const docs = yaml.loadAll(readFileSync(new URL('deploy/kubernetes/rbac.yaml', repo), 'utf8')) as { kind: string; rules?: PolicyRule[] }[];
  const role = docs.find((d) => d.kind === 'Role');
  if (!role?.rules) throw new Error('deploy/kubernetes/rbac.yaml has no Role');
  return role.rules;
}

export interface Standin {
  api: StandinApiServer;
  url: string;
  kubeconfig: string;
  close(): Promise<void>;
}

/**
 * A stand-in API server and a kubeconfig whose current context points elsewhere (an unused port):
 * the launcher only reaches the stand-in when its `context` option picks 'standin'.
 */
export async function startStandin(options: Partial<StandinOptions> = {}): Promise<Standin> {
  const token = 'standin-bearer-token';
  const api = new StandinApiServer({ token, rules: rbacRules(), namespaces: ['default', 'clustrix'], entrypoint: FAKE_AGENT, ...options });
  const url = await api.listen();
  const dir = mkdtempSync(join(tmpdir(), 'clustrix-kubeconfig-'));
  const kubeconfig = join(dir, 'config');
  // client-node allows http:// only with insecure-skip-tls-verify; the stand-in speaks plain HTTP.
  writeFileSync(kubeconfig, yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: 'standin', cluster: { server: url, 'insecure-skip-tls-verify': true } },
      { name: 'elsewhere', cluster: { server: 'http://127.0.0.1:9', 'insecure-skip-tls-verify': true } },
    ],
    users: [{ name: 'coordinator', user: { token } }],
    contexts: [
      { name: 'elsewhere', context: { cluster: 'elsewhere', user: 'coordinator' } },
      { name: 'standin', context: { cluster: 'standin', user: 'coordinator', namespace: 'clustrix' } },
    ],
    'current-context': 'elsewhere',
  }), { mode: 0o600 });
  return {
    api,
    url,
    kubeconfig,
    async close() {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Hello {
  type: 'fake-hello';
  agentId: string;
  token: string;
  jobId: string;
  slots: number;
  walltimeEnd: number | null;
  hostname: string;
  pid: number;
  envNames: string[];
}

/** Where agents connect back: records hellos; closing an agent's socket makes it exit 0. */
export class FakeCoordinator {
  readonly hellos: Hello[] = [];
  private readonly sockets = new Map<string, WebSocket>();
  private readonly wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  constructor() {
    this.wss.on('connection', (socket) => {
      socket.on('message', (data: Buffer) => {
        const hello = JSON.parse(data.toString()) as Hello;
        this.hellos.push(hello);
        this.sockets.set(hello.agentId, socket);
      });
      socket.on('close', () => {
        for (const [id, s] of this.sockets) if (s === socket) this.sockets.delete(id);
      });
    });
  }

  ready(): Promise<void> {
    return new Promise((resolve) => (this.wss.address() ? resolve() : this.wss.once('listening', () => resolve())));
  }

  connected(agentId: string): boolean {
    return this.sockets.has(agentId);
  }

  hello(agentId: string): Hello | undefined {
    return this.hellos.find((h) => h.agentId === agentId);
  }

  /** As if the coordinator were done with this agent: it exits 0, and its index completes. */
  release(agentId: string): void {
    this.sockets.get(agentId)?.close();
  }

  close(): Promise<void> {
    for (const s of this.wss.clients) s.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

/** Polls until `check` returns something truthy; fails naming what it waited for. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
