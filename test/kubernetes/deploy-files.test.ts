/**
 * Checks of the files that ship beside the launcher: the manifests in deploy/kubernetes/ against the
 * Kubernetes schema, and Dockerfile.agent + .dockerignore as far as a machine without a container
 * engine can check them (no image is built here).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// js-yaml comes with @kubernetes/client-node (its YAML parser); it gives the raw documents, before
// client-node's deserializer would drop unknown fields.
import yaml from 'js-yaml';
import { ObjectSerializer } from '@kubernetes/client-node/dist/serializer.js';
import { getSerializationType } from '@kubernetes/client-node/dist/util.js';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { AGENT_UID } from '../../coordinator/backends/launchers/kubernetes/manifests.js';
import { compileKubernetesOptions, packageVersion } from '../../coordinator/backends/launchers/kubernetes/index.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
type Doc = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } } & Record<string, unknown>;
const docs = (path: string) => (yaml.loadAll(read(path)) as Doc[]).filter(Boolean);

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'v1/ServiceAccount': ServiceAccount,
  'v1/Service': Service,
  'batch/v1/Job': Job,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

describe('deploy/kubernetes manifests', () => {
  const files = ['deploy/kubernetes/rbac.yaml', 'deploy/kubernetes/coordinator-service.yaml', 'deploy/kubernetes/coordinator-example.yaml'];

  it.each(files)('%s validates against the Kubernetes schema and has no unknown field', (file) => {
    for (const doc of docs(file)) {
      const Model = MODELS[`${doc.apiVersion}/${doc.kind}`];
      if (!Model) throw new Error(`${file}: no schema check for ${doc.apiVersion} ${doc.kind}`);
      expect(() => new Model(doc as never).validate()).not.toThrow();
      expect(ObjectSerializer.serialize(doc, getSerializationType(doc.apiVersion, doc.kind))).toEqual(doc);
      expect(doc.metadata.namespace).toBe('clustrix');
    }
  });

  it('rbac.yaml grants exactly what the launcher uses', () => {
    const byKind = Object.fromEntries(docs('deploy/kubernetes/rbac.yaml').map((d) => [d.kind, d]));
    expect(Object.keys(byKind).sort()).toEqual(['Role', 'RoleBinding', 'ServiceAccount']);
    expect(byKind.Role?.rules).toEqual([
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch', 'delete', 'patch'] },
      { apiGroups: [''], resources: ['pods', 'pods/log', 'events'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'get', 'delete'] },
    ]);
    expect(byKind.RoleBinding).toMatchObject({
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'clustrix-coordinator' },
      subjects: [{ kind: 'ServiceAccount', name: 'clustrix-coordinator', namespace: 'clustrix' }],
    });
  });

  it('the sample Service selects the example coordinator and forwards its port', () => {
    const [service] = docs('deploy/kubernetes/coordinator-service.yaml') as ({ spec: { selector: Record<string, string>; ports: { port: number; targetPort: number }[] } } & Doc)[];
    const [coordinator] = docs('deploy/kubernetes/coordinator-example.yaml') as ({ spec: { template: { metadata: { labels: Record<string, string> }; spec: { serviceAccountName: string; containers: { ports: { containerPort: number }[] }[] } } } } & Doc)[];
    expect(coordinator?.spec.template.metadata.labels).toMatchObject(service?.spec.selector ?? { missing: true });
    expect(coordinator?.spec.template.spec.containers[0]?.ports[0]?.containerPort).toBe(service?.spec.ports[0]?.targetPort);
    expect(coordinator?.spec.template.spec.serviceAccountName).toBe('clustrix-coordinator');
    expect(read('deploy/kubernetes/coordinator-service.yaml')).toContain(`ws://clustrix-coordinator.clustrix.svc.cluster.local:${service?.spec.ports[0]?.port}`);
  });
});

describe('Dockerfile.agent (static checks; no container engine on this machine)', () => {
  const dockerfile = read('Dockerfile.agent');
  const instructions = dockerfile.split('\n').filter((l) => /^[A-Z]+\s/.test(l));
  const copy = instructions.find((l) => l.startsWith('COPY '))?.split(/\s+/).slice(1) ?? [];
  const sources = copy.slice(0, -1);

  it('copies only what `npm run build` writes: the agent bundle (one file, no map: the package ships no sources)', () => {
    expect(sources).toEqual(['dist/bundle/agent.cjs']);
    // scripts/build-agent.mjs is the producer; its outfile (BUNDLE) names this file.
    const build = read('scripts/build-agent.mjs');
    expect(build).toContain("const BUNDLE = 'dist/bundle/agent.cjs';");
    expect(read('package.json')).toContain('node scripts/build-agent.mjs');
  });

  it.runIf(existsSync(new URL('dist/bundle/agent.cjs', root)))('the copied files exist after the build', () => {
    for (const s of sources) expect(existsSync(new URL(s, root))).toBe(true);
  });

  it('runs the bundle with node as a numeric non-root user the launcher expects', () => {
    expect(instructions).toContain(`USER ${AGENT_UID}:${AGENT_UID}`);
    const entrypoint = JSON.parse(instructions.find((l) => l.startsWith('ENTRYPOINT '))?.slice('ENTRYPOINT '.length) ?? '[]') as string[];
    expect(entrypoint).toEqual(['/usr/bin/tini', '--', 'node', '--enable-source-maps', '/opt/clustrix/agent.cjs']);
    expect(instructions).toContain('WORKDIR /opt/clustrix');
    expect(dockerfile).toMatch(/^ARG NODE_VERSION=20$/m);
    expect(dockerfile).toMatch(/^FROM node:\$\{NODE_VERSION\}-bookworm-slim$/m);
    expect(instructions.some((l) => /\bnpm\b/.test(l))).toBe(false);
    expect(instructions.filter((l) => l.startsWith('HEALTHCHECK'))).toEqual(['HEALTHCHECK NONE']);
  });

  it('.dockerignore lets exactly the copied file into the build context', () => {
    const candidates = [
      ...execFileSync('git', ['ls-files'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean),
      'dist/bundle/agent.cjs', 'dist/bundle/agent.cjs.map', 'dist/coordinator/index.js', 'node_modules/ws/index.js', '.env',
    ];
    const included = candidates.filter(dockerignoreAdmits(read('.dockerignore')));
    expect(included.sort()).toEqual(['dist/bundle/agent.cjs']);
  });

  it('deploy/kubernetes/README.md names the default image the launcher uses', () => {
    const readme = read('deploy/kubernetes/README.md');
    expect(compileKubernetesOptions().image).toBe(`ghcr.io/clustrix/agent:${packageVersion()}`);
    expect(readme).toContain('ghcr.io/clustrix/agent:<version>');
    expect(readme).toContain('docker build -f Dockerfile.agent');
    expect(readme).toContain('docker push');
  });
});

/**
 * The .dockerignore rules Docker applies, for the patterns used here: Go filepath.Match globs, the
 * last matching line wins, `!` re-admits, and a pattern that matches a directory matches all below it.
 */
function dockerignoreAdmits(text: string): (path: string) => boolean {
  const rules = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => {
    const negated = l.startsWith('!');
    const glob = (negated ? l.slice(1) : l).replace(/^\/+/, '');
    const source = glob.split('').map((ch) => (ch === '*' ? '[^/]*' : ch === '?' ? '[^/]' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
    return { negated, re: new RegExp(`^${source}$`) };
  });
  return (path) => {
    const prefixes = path.split('/').map((_, i, parts) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const rule of rules) if (prefixes.some((p) => rule.re.test(p))) excluded = !rule.negated;
    return !excluded;
  };
}
