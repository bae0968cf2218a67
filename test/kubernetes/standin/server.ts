/**
 * A stand-in for the Kubernetes API server (NOT a live cluster): the endpoints the kubernetes
 * launcher calls, with the paths, verbs, status codes and Status objects the API reference
 * documents, watches as newline-delimited JSON events, bearer-token authentication, and
 * authorization by the rules of a Role (the test feeds it deploy/kubernetes/rbac.yaml, so a call
 * the Role does not grant fails here as it would in a cluster). Pods run as local processes
 * (node.ts). No TLS: client-node allows http:// only with skipTLSVerify, which the test sets.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventRecorder } from './events.js';
import { JobController, type Propagation } from './controllers.js';
import { StandinNode, type NodeSpec } from './node.js';
import { RESOURCES, SelectorError, Store, qualified, selector, type Obj, type Resource } from './store.js';
import { applyPatch, defaultJob, validate, type Invalid } from './validation.js';

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export interface StandinOptions {
  /** Bearer token clients must present. */
  token: string;
  /** Rules of the Role bound to that token's identity. */
  rules: PolicyRule[];
  namespaces: string[];
  /** The agent command the image's entrypoint stands for. */
  entrypoint: readonly string[];
  node?: Partial<NodeSpec>;
  unpullable?: (image: string) => boolean;
  crashBackoffMs?: number;
}

/** One request as RBAC sees it. */
interface Attributes {
  verb: string;
  group: string;
  resource: Resource;
  subresource?: string;
  namespace: string;
  name?: string;
}

const IDENTITY = 'system:serviceaccount:default:clustrix-coordinator';

export class StandinApiServer {
  readonly store = new Store();
  readonly node: StandinNode;
  /** Every request with its answer's status code: tests assert what the launcher called. */
  readonly requests: { call: string; code: number }[] = [];
  private readonly jobs: JobController;
  private readonly server: Server;
  private readonly watches = new Set<ServerResponse>();
  private readonly root = mkdtempSync(join(tmpdir(), 'clustrix-k8s-standin-'));

  constructor(private readonly options: StandinOptions) {
    const events = new EventRecorder(this.store);
    this.node = new StandinNode(this.store, events, {
      node: { name: 'standin-node', labels: { 'kubernetes.io/hostname': 'standin-node' }, taints: [], allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, ...options.node },
      entrypoint: options.entrypoint,
      unpullable: options.unpullable ?? ((image) => image.includes('does-not-exist')),
      crashBackoffMs: options.crashBackoffMs ?? 200,
      root: this.root,
    });
    this.jobs = new JobController(this.store, events, this.node);
    this.server = createServer((req, res) => {
      const entry = { call: `${req.method} ${req.url}`, code: 0 };
      this.requests.push(entry);
      this.handle(req, res)
        .catch((err: unknown) => this.status(res, 500, 'InternalError', String(err)))
        .finally(() => (entry.code = res.statusCode));
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Ends every open watch, as an API server does at its timeout or on restart; clients re-watch. */
  dropWatches(): void {
    for (const res of this.watches) res.destroy();
    this.watches.clear();
  }

  async close(): Promise<void> {
    this.dropWatches();
    this.jobs.close();
    this.node.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.root, { recursive: true, force: true });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://standin');
    if (req.headers.authorization !== `Bearer ${this.options.token}`) return this.status(res, 401, 'Unauthorized', 'Unauthorized');
    const m = /^\/(?:api\/v1|apis\/(batch)\/v1)\/namespaces\/([^/]+)\/([^/]+)(?:\/([^/]+))?(?:\/(log))?$/.exec(url.pathname);
    const [, group = '', namespace = '', resource = '', name, sub] = m ?? [];
    const known = m && ((group === 'batch' && resource === 'jobs') || (group === '' && ['pods', 'secrets', 'events'].includes(resource)));
    if (!known || (sub && resource !== 'pods')) return this.status(res, 404, 'NotFound', 'the server could not find the requested resource');
    const r = resource as Resource;
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const verb = ({ GET: name ? 'get' : watch ? 'watch' : 'list', POST: 'create', PATCH: 'patch', DELETE: 'delete', PUT: 'update' } as Record<string, string>)[req.method ?? ''];
    if (!verb) return this.status(res, 405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    const attrs: Attributes = { verb, group, resource: r, namespace, ...(name && { name }), ...(sub && { subresource: sub }) };
    if (!this.allowed(attrs)) {
      const what = `${qualified(r)}${name ? ` "${name}"` : ''}`;
      const res_ = `${r}${sub ? `/${sub}` : ''}`;
      return this.status(res, 403, 'Forbidden', `${what} is forbidden: User "${IDENTITY}" cannot ${verb} resource "${res_}" in API group "${group}" in the namespace "${namespace}"`, { name, group, kind: r });
    }
    if (!this.options.namespaces.includes(namespace) && verb === 'create') {
      return this.status(res, 404, 'NotFound', `namespaces "${namespace}" not found`, { name: namespace, kind: 'namespaces' });
    }
    const body = ['POST', 'PATCH', 'PUT', 'DELETE'].includes(req.method ?? '') ? await readBody(req) : '';
    try {
      if (sub === 'log') return this.log(res, namespace, name ?? '', url.searchParams);
      if (!name && verb === 'create') return this.create(res, r, namespace, body);
      if (!name && verb === 'watch') return this.watch(res, r, namespace, url.searchParams);
      if (!name && verb === 'list') return this.list(res, r, namespace, url.searchParams);
      if (!name) return this.status(res, 405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      const existing = this.store.get(r, namespace, name);
      if (!existing) return this.status(res, 404, 'NotFound', `${qualified(r)} "${name}" not found`, { name, group, kind: r });
      if (verb === 'get') return this.json(res, 200, existing);
      if (verb === 'delete') return this.remove(res, r, existing, url.searchParams, body);
      if (verb === 'patch' && r === 'jobs') return this.patch(res, existing, req.headers['content-type'] ?? '', body);
      return this.status(res, 405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    } catch (err) {
      if (err instanceof SelectorError) return this.status(res, 400, 'BadRequest', err.message);
      if (err instanceof SyntaxError) return this.status(res, 400, 'BadRequest', `the body of the request was in an unknown format: ${err.message}`);
      throw err;
    }
  }

  private allowed(a: Attributes): boolean {
    const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
    return this.options.rules.some((rule) =>
      (rule.apiGroups.includes(a.group) || rule.apiGroups.includes('*')) &&
      (rule.resources.includes(resource) || rule.resources.includes('*')) &&
      (rule.verbs.includes(a.verb) || rule.verbs.includes('*')));
  }

  private create(res: ServerResponse, r: Resource, namespace: string, body: string): void {
    if (r !== 'jobs' && r !== 'secrets') return this.status(res, 405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    const object = JSON.parse(body) as Obj;
    const meta = (object.metadata ??= {} as Obj['metadata']);
    if (meta.namespace && meta.namespace !== namespace) {
      return this.status(res, 400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    meta.namespace = namespace;
    if (this.store.get(r, namespace, meta.name)) {
      return this.status(res, 409, 'AlreadyExists', `${qualified(r)} "${meta.name}" already exists`, { name: meta.name, group: RESOURCES[r].group, kind: r });
    }
    if (r === 'jobs') defaultJob(object);
    if (r === 'secrets' && object.stringData) {
      const data = (object.data ??= {}) as Record<string, string>;
      for (const [k, v] of Object.entries(object.stringData as Record<string, string>)) data[k] = Buffer.from(v).toString('base64');
      delete object.stringData;
    }
    const invalid = validate(r, object);
    if (invalid) return this.invalid(res, r, meta.name, invalid);
    const created = this.store.create(r, object);
    if (r === 'jobs') {
      // The API server sets the selector from the uid it just assigned.
      this.store.mutate('jobs', namespace, meta.name, (j) => defaultJob(j, j.metadata.uid));
    }
    this.json(res, 201, this.store.get(r, namespace, meta.name) ?? created);
  }

  private list(res: ServerResponse, r: Resource, namespace: string, q: URLSearchParams): void {
    const items = this.store.list(r, namespace, q.get('labelSelector'), q.get('fieldSelector'));
    // In a list, items carry no kind or apiVersion: the list's own say it.
    const bare = items.map(({ kind: _k, apiVersion: _a, ...rest }) => rest);
    this.json(res, 200, { kind: RESOURCES[r].listKind, apiVersion: RESOURCES[r].apiVersion, metadata: { resourceVersion: this.store.resourceVersion() }, items: bare });
  }

  /**
   * GET ...?watch=true: one JSON object per line, `{"type":"ADDED|MODIFIED|DELETED","object":{...}}`.
   * From resourceVersion N it replays later changes; without one it starts with ADDED for each
   * existing object. The stand-in never compacts, so it never answers 410 Gone.
   */
  private watch(res: ServerResponse, r: Resource, namespace: string, q: URLSearchParams): void {
    const labels = q.get('labelSelector');
    const fields = q.get('fieldSelector');
    const selected = selector(labels, fields);
    const matches = (o: Obj) => o.metadata.namespace === namespace && selected(o);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    // Headers go out now, as the API server sends them: a client waits for them before any event.
    res.flushHeaders();
    const send = (type: string, object: Obj) => res.write(`${JSON.stringify({ type, object })}\n`);
    const since = Number(q.get('resourceVersion') || '0');
    if (since === 0) for (const o of this.store.list(r, namespace, labels, fields)) send('ADDED', o);
    else for (const c of this.store.changesSince(r, since)) if (matches(c.object)) send(c.type, c.object);
    const listener = (c: { resource: Resource; type: string; object: Obj }) => {
      if (c.resource === r && matches(c.object)) send(c.type, c.object);
    };
    this.store.on('change', listener);
    this.watches.add(res);
    const timeout = Number(q.get('timeoutSeconds') || '0');
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    res.on('close', () => {
      this.store.off('change', listener);
      this.watches.delete(res);
      if (timer) clearTimeout(timer);
    });
  }

  private remove(res: ServerResponse, r: Resource, existing: Obj, q: URLSearchParams, body: string): void {
    const options = body ? (JSON.parse(body) as { propagationPolicy?: string }) : {};
    const policy = (q.get('propagationPolicy') ?? options.propagationPolicy ?? 'Background') as Propagation;
    if (!['Foreground', 'Background', 'Orphan'].includes(policy)) {
      return this.status(res, 400, 'BadRequest', `propagationPolicy: Unsupported value: "${policy}"`);
    }
    const { name, namespace, uid } = existing.metadata;
    const pending = r === 'jobs' ? this.jobs.delete(existing, policy) : this.store.remove(r, namespace, name) && undefined;
    if (pending) return this.json(res, 200, pending);
    this.json(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name, group: RESOURCES[r].group, kind: r, uid } });
  }

  /** Only what the launcher sends: a JSON patch (client-node's default), or a merge patch. */
  private patch(res: ServerResponse, existing: Obj, contentType: string, body: string): void {
    const type = contentType.split(';')[0]?.trim();
    if (type !== 'application/json-patch+json' && type !== 'application/merge-patch+json') {
      return this.status(res, 415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json`);
    }
    const patched = applyPatch(existing, type, JSON.parse(body) as unknown);
    if (typeof patched === 'string') return this.status(res, 422, 'Invalid', patched);
    const invalid = validate('jobs', patched);
    if (invalid) return this.invalid(res, 'jobs', existing.metadata.name, invalid);
    this.json(res, 200, this.store.update('jobs', patched));
  }

  private log(res: ServerResponse, namespace: string, name: string, q: URLSearchParams): void {
    const pod = this.store.get('pods', namespace, name);
    if (!pod) return this.status(res, 404, 'NotFound', `pods "${name}" not found`, { name, kind: 'pods' });
    const containers = (pod.spec as { containers: { name: string }[] }).containers.map((c) => c.name);
    const container = q.get('container') ?? (containers.length === 1 ? containers[0] : undefined);
    if (!container || !containers.includes(container)) {
      return this.status(res, 400, 'BadRequest', `container ${container ?? ''} is not valid for pod ${name}`);
    }
    const previous = q.get('previous') === 'true';
    const text = this.node.log(pod, previous);
    if (text === undefined) {
      const waiting = (pod.status as { containerStatuses?: { state?: { waiting?: { reason?: string } } }[] } | undefined)?.containerStatuses?.[0]?.state?.waiting;
      const why = previous ? `previous terminated container "${container}" in pod "${name}" not found` : `container "${container}" in pod "${name}" is waiting to start: ${waiting?.reason === 'ErrImagePull' || waiting?.reason === 'ImagePullBackOff' ? 'trying and failing to pull image' : 'ContainerCreating'}`;
      return this.status(res, 400, 'BadRequest', why);
    }
    const tail = Number(q.get('tailLines') ?? '-1');
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const out = tail >= 0 ? lines.slice(Math.max(0, lines.length - tail)) : lines;
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(out.length > 0 ? `${out.join('\n')}\n` : '');
  }

  private invalid(res: ServerResponse, r: Resource, name: string, invalid: Invalid): void {
    const kind = `${RESOURCES[r].kind}${RESOURCES[r].group ? `.${RESOURCES[r].group}` : ''}`;
    const message = `${kind} "${name}" is invalid: ${invalid.map((c) => `${c.field}: ${c.message}`).join(', ')}`;
    this.status(res, 422, 'Invalid', message, { name, group: RESOURCES[r].group, kind: r, causes: invalid.map((c) => ({ reason: 'FieldValueInvalid', ...c })) });
  }

  private status(res: ServerResponse, code: number, reason: string, message: string, details?: Record<string, unknown>): void {
    const cleaned = details && Object.fromEntries(Object.entries(details).filter(([, v]) => v !== undefined && v !== ''));
    this.json(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(cleaned && { details: cleaned }), code });
  }

  private json(res: ServerResponse, code: number, body: unknown): void {
    if (res.headersSent) return;
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (data += chunk));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}
