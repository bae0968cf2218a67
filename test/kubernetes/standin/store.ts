/**
 * The stand-in API server's object store: what etcd plus the API server's storage layer do for the
 * few resources the launcher touches. One global resourceVersion counter, a change history that
 * watches replay from a resourceVersion, and label/field selectors as the API documents them.
 * Not a live cluster: see ../kubernetes-apiserver-standin.test.ts.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';

export type Resource = 'jobs' | 'pods' | 'secrets' | 'events';

export interface Meta {
  name: string;
  namespace: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  deletionTimestamp?: string;
  finalizers?: string[];
  generateName?: string;
}

/** A stored object: plain JSON, as it would be serialized. */
export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  [field: string]: unknown;
}

export type WatchType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  rv: number;
  resource: Resource;
  type: WatchType;
  object: Obj;
}

/** Group and kind per resource, for Status details and messages (`jobs.batch "x" not found`). */
export const RESOURCES: Record<Resource, { group: string; kind: string; apiVersion: string; listKind: string }> = {
  jobs: { group: 'batch', kind: 'Job', apiVersion: 'batch/v1', listKind: 'JobList' },
  pods: { group: '', kind: 'Pod', apiVersion: 'v1', listKind: 'PodList' },
  secrets: { group: '', kind: 'Secret', apiVersion: 'v1', listKind: 'SecretList' },
  events: { group: '', kind: 'Event', apiVersion: 'v1', listKind: 'EventList' },
};

export function qualified(resource: Resource): string {
  const group = RESOURCES[resource].group;
  return group ? `${resource}.${group}` : resource;
}

/** RFC 3339 with second precision, as the API server writes timestamps. */
export function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

export class Store extends EventEmitter<{ change: [Change] }> {
  constructor() {
    super();
    // One listener per open watch, plus the controllers.
    this.setMaxListeners(0);
  }

  private rv = 1;
  private readonly objects = new Map<Resource, Map<string, Obj>>();
  private readonly history: Change[] = [];

  resourceVersion(): string {
    return String(this.rv);
  }

  get(resource: Resource, namespace: string, name: string): Obj | undefined {
    return this.table(resource).get(`${namespace}/${name}`);
  }

  list(resource: Resource, namespace: string, labelSelector?: string | null, fieldSelector?: string | null): Obj[] {
    const selected = selector(labelSelector, fieldSelector);
    return [...this.table(resource).values()].filter((o) => o.metadata.namespace === namespace && selected(o));
  }

  listAll(resource: Resource): Obj[] {
    return [...this.table(resource).values()];
  }

  /** Assigns uid, resourceVersion and creationTimestamp; the caller checked the name is free. */
  create(resource: Resource, object: Obj): Obj {
    const stored = structuredClone(object);
    stored.apiVersion = RESOURCES[resource].apiVersion;
    stored.kind = RESOURCES[resource].kind;
    stored.metadata = { ...stored.metadata, uid: randomUUID(), creationTimestamp: now(), resourceVersion: '' };
    this.table(resource).set(`${stored.metadata.namespace}/${stored.metadata.name}`, stored);
    return this.record(resource, 'ADDED', stored);
  }

  /** Replaces a stored object; returns the new version. */
  update(resource: Resource, object: Obj): Obj {
    const stored = structuredClone(object);
    this.table(resource).set(`${stored.metadata.namespace}/${stored.metadata.name}`, stored);
    return this.record(resource, 'MODIFIED', stored);
  }

  /** Read-modify-write of one object; undefined when it is gone. */
  mutate(resource: Resource, namespace: string, name: string, change: (o: Obj) => void): Obj | undefined {
    const current = this.get(resource, namespace, name);
    if (!current) return undefined;
    const next = structuredClone(current);
    change(next);
    return this.update(resource, next);
  }

  remove(resource: Resource, namespace: string, name: string): Obj | undefined {
    const current = this.get(resource, namespace, name);
    if (!current) return undefined;
    this.table(resource).delete(`${namespace}/${name}`);
    return this.record(resource, 'DELETED', structuredClone(current));
  }

  /** Changes after `since`, for a watch that starts from a resourceVersion. */
  changesSince(resource: Resource, since: number): Change[] {
    return this.history.filter((c) => c.resource === resource && c.rv > since);
  }

  private record(resource: Resource, type: WatchType, object: Obj): Obj {
    this.rv += 1;
    object.metadata.resourceVersion = String(this.rv);
    const change: Change = { rv: this.rv, resource, type, object: structuredClone(object) };
    this.history.push(change);
    this.emit('change', change);
    return object;
  }

  private table(resource: Resource): Map<string, Obj> {
    let table = this.objects.get(resource);
    if (!table) this.objects.set(resource, (table = new Map()));
    return table;
  }
}

/** Label and field selectors together, as a list or watch applies them. */
export function selector(labelSelector?: string | null, fieldSelector?: string | null): (o: Obj) => boolean {
  const labels = parseLabelSelector(labelSelector ?? '');
  const fields = parseFieldSelector(fieldSelector ?? '');
  return (o) => labels(o.metadata.labels ?? {}) && fields(o);
}

/**
 * Equality-based and set-less selectors: `a=b`, `a==b`, `a!=b`, `a`, `!a`, comma = and. (The
 * launcher uses only `key=value`; the rest is here so a typo is not matched by accident.)
 */
export function parseLabelSelector(selector: string): (labels: Record<string, string>) => boolean {
  const terms = selector.split(',').map((t) => t.trim()).filter(Boolean).map((term) => {
    let m: RegExpExecArray | null;
    if ((m = /^([^!=]+)!=(.*)$/.exec(term))) {
      const [, k = '', v = ''] = m;
      return (l: Record<string, string>) => l[k.trim()] !== v.trim();
    }
    if ((m = /^([^!=]+)==?(.*)$/.exec(term))) {
      const [, k = '', v = ''] = m;
      return (l: Record<string, string>) => l[k.trim()] === v.trim();
    }
    if (term.startsWith('!')) return (l: Record<string, string>) => !(term.slice(1) in l);
    if (/^[A-Za-z0-9./_-]+$/.test(term)) return (l: Record<string, string>) => term in l;
    throw new SelectorError(`unable to parse requirement: ${term}`);
  });
  return (labels) => terms.every((t) => t(labels));
}

/** `a.b=c`, `a.b==c`, `a.b!=c` over dotted paths of the object (e.g. involvedObject.name). */
export function parseFieldSelector(selector: string): (o: Obj) => boolean {
  const terms = selector.split(',').map((t) => t.trim()).filter(Boolean).map((term) => {
    const m = /^([A-Za-z.]+)(!=|==|=)(.*)$/.exec(term);
    if (!m) throw new SelectorError(`invalid field selector: ${term}`);
    const [, path = '', op, value] = m;
    return (o: Obj) => {
      let at: unknown = o;
      for (const part of path.split('.')) at = typeof at === 'object' && at !== null ? (at as Record<string, unknown>)[part] : undefined;
      const actual = at === undefined || at === null ? '' : String(at as string);
      return op === '!=' ? actual !== value : actual === value;
    };
  });
  return (o) => terms.every((t) => t(o));
}

export class SelectorError extends Error {}
