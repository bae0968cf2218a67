/**
 * What the stand-in API server checks on create and patch: the OpenAPI schema (through the
 * kubernetes-models package), plus the API server's own validation rules that a schema cannot
 * express and that the launcher's manifests could break: name and label syntax, a Job's
 * restartPolicy, Indexed Jobs needing completions, requests not above limits, extended resources
 * with request == limit, env var names, ownerReferences, Secret data being base64, an immutable
 * Job template.
 */
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Secret } from 'kubernetes-models/v1/Secret';
import type { Obj, Resource } from './store.js';
import { quantity } from './node.js';

export type Invalid = { field: string; message: string }[];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

interface Container {
  name?: string;
  image?: string;
  env?: { name?: string; value?: string; valueFrom?: unknown }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

/** Null when valid; else the causes, with field paths as the API server writes them. */
export function validate(resource: Resource, object: Obj): Invalid | null {
  const causes: Invalid = [];
  try {
    if (resource === 'jobs') new Job(object as never).validate();
    if (resource === 'secrets') new Secret(object as never).validate();
  } catch (err) {
    const errors = (err as { errors?: { instancePath: string; message?: string }[] }).errors ?? [];
    for (const e of errors) causes.push({ field: fieldPath(e.instancePath), message: e.message ?? 'invalid' });
    if (errors.length === 0) causes.push({ field: '<root>', message: (err as Error).message });
  }
  const meta = object.metadata;
  const nameOk = resource === 'jobs' ? meta.name.length <= 63 && DNS_LABEL.test(meta.name) : meta.name.length <= 253 && DNS_SUBDOMAIN.test(meta.name);
  if (!meta.name || !nameOk) causes.push({ field: 'metadata.name', message: `Invalid value: "${meta.name}": must be a lowercase RFC 1123 ${resource === 'jobs' ? 'label' : 'subdomain'}` });
  labels(meta.labels, 'metadata.labels', causes);
  for (const [i, ref] of (meta.ownerReferences ?? []).entries()) {
    for (const key of ['apiVersion', 'kind', 'name', 'uid'] as const) {
      if (!ref[key]) causes.push({ field: `metadata.ownerReferences[${i}].${key}`, message: 'Required value' });
    }
  }
  if (resource === 'jobs') job(object, causes);
  if (resource === 'secrets') {
    for (const [k, v] of Object.entries((object.data ?? {}) as Record<string, string>)) {
      if (!/^[-._a-zA-Z0-9]+$/.test(k)) causes.push({ field: `data[${k}]`, message: 'Invalid value: a valid config key must consist of alphanumeric characters, -, _ or .' });
      if (Buffer.from(v, 'base64').toString('base64') !== v) causes.push({ field: `data[${k}]`, message: 'Invalid value: illegal base64 data' });
    }
  }
  return causes.length > 0 ? causes : null;
}

function job(object: Obj, causes: Invalid): void {
  const spec = (object.spec ?? {}) as {
    completionMode?: string; completions?: number; parallelism?: number;
    template?: { metadata?: { labels?: Record<string, string> }; spec?: { restartPolicy?: string; containers?: Container[] } };
  };
  const pod = spec.template?.spec;
  if (pod?.restartPolicy !== 'OnFailure' && pod?.restartPolicy !== 'Never') {
    causes.push({ field: 'spec.template.spec.restartPolicy', message: `Unsupported value: "${pod?.restartPolicy ?? ''}": supported values: "OnFailure", "Never"` });
  }
  if (spec.completionMode === 'Indexed' && spec.completions === undefined) {
    causes.push({ field: 'spec.completions', message: 'Required value: when completion mode is Indexed' });
  }
  labels(spec.template?.metadata?.labels, 'spec.template.metadata.labels', causes);
  for (const [i, c] of (pod?.containers ?? []).entries()) {
    const at = `spec.template.spec.containers[${i}]`;
    if (!c.name || !DNS_LABEL.test(c.name)) causes.push({ field: `${at}.name`, message: `Invalid value: "${c.name ?? ''}"` });
    if (!c.image) causes.push({ field: `${at}.image`, message: 'Required value' });
    for (const [j, e] of (c.env ?? []).entries()) {
      if (!e.name || !ENV_NAME.test(e.name)) causes.push({ field: `${at}.env[${j}].name`, message: `Invalid value: "${e.name ?? ''}"` });
      if (e.value !== undefined && e.valueFrom !== undefined) causes.push({ field: `${at}.env[${j}].valueFrom`, message: 'Invalid value: may not be specified when `value` is not empty' });
    }
    const { requests = {}, limits = {} } = c.resources ?? {};
    for (const [k, v] of Object.entries(requests)) {
      const limit = limits[k];
      if (limit !== undefined && quantity(v) > quantity(limit)) causes.push({ field: `${at}.resources.requests[${k}]`, message: `Invalid value: "${v}": must be less than or equal to ${k} limit of ${limit}` });
      if (k.includes('/') && !k.startsWith('kubernetes.io/') && (limit === undefined || quantity(limit) !== quantity(v))) {
        causes.push({ field: `${at}.resources.requests[${k}]`, message: `Invalid value: "${v}": must be equal to ${k} limit of ${limit ?? '0'}` });
      }
    }
  }
}

function labels(map: Record<string, string> | undefined, field: string, causes: Invalid): void {
  for (const [k, v] of Object.entries(map ?? {})) {
    const slash = k.indexOf('/');
    const name = slash < 0 ? k : k.slice(slash + 1);
    if ((slash >= 0 && !DNS_SUBDOMAIN.test(k.slice(0, slash))) || name.length > 63 || !LABEL_NAME.test(name)) causes.push({ field, message: `Invalid value: "${k}": name part must consist of alphanumeric characters, '-', '_' or '.'` });
    if (v.length > 63 || (v !== '' && !LABEL_NAME.test(v))) causes.push({ field: `${field}[${k}]`, message: `Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'` });
  }
}

/** API server defaulting of a Job; with the uid, also the selector and the controller labels. */
export function defaultJob(object: Obj, uid?: string): void {
  const spec = (object.spec ??= {}) as Record<string, unknown> & { template?: { metadata?: { labels?: Record<string, string> }; spec?: Record<string, unknown> } };
  spec.parallelism ??= 1;
  spec.completionMode ??= 'NonIndexed';
  spec.backoffLimit ??= 6;
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= 'TerminatingOrFailed';
  const podSpec = spec.template?.spec;
  if (podSpec) {
    podSpec.terminationGracePeriodSeconds ??= 30;
    podSpec.dnsPolicy ??= 'ClusterFirst';
    podSpec.schedulerName ??= 'default-scheduler';
  }
  if (uid && spec.template) {
    const extra = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': object.metadata.name, 'controller-uid': uid, 'job-name': object.metadata.name };
    spec.template.metadata = { ...spec.template.metadata, labels: { ...spec.template.metadata?.labels, ...extra } };
    spec.selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } };
  }
}

/** RFC 6902 (add, replace, remove, test) or RFC 7386; a string is the reason it does not apply. */
export function applyPatch(existing: Obj, type: string, patch: unknown): Obj | string {
  const next = structuredClone(existing) as unknown as Record<string, unknown>;
  if (type === 'application/merge-patch+json') {
    merge(next, patch);
  } else {
    if (!Array.isArray(patch)) return 'json patch must be an array of operations';
    for (const op of patch as { op: string; path: string; value?: unknown }[]) {
      const parts = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
      const last = parts.pop();
      let parent: unknown = next;
      for (const p of parts) parent = (parent as Record<string, unknown> | undefined)?.[p];
      if (typeof parent !== 'object' || parent === null || last === undefined) return `doc is missing path: "${op.path}"`;
      const target = parent as Record<string, unknown>;
      if ((op.op === 'replace' || op.op === 'remove' || op.op === 'test') && !(last in target)) return `doc is missing key: "${op.path}"`;
      if (op.op === 'add' || op.op === 'replace') target[last] = op.value;
      else if (op.op === 'remove') delete target[last];
      else if (op.op === 'test' && JSON.stringify(target[last]) !== JSON.stringify(op.value)) return `testing value ${op.path} failed`;
      else if (!['add', 'replace', 'remove', 'test'].includes(op.op)) return `Unexpected kind: ${op.op}`;
    }
  }
  const before = (existing.spec as { template?: unknown }).template;
  const after = (next.spec as { template?: unknown } | undefined)?.template;
  if (JSON.stringify(before) !== JSON.stringify(after)) return 'spec.template: Invalid value: field is immutable';
  return next as unknown as Obj;
}

function merge(target: Record<string, unknown>, patch: unknown): void {
  for (const [k, v] of Object.entries((patch ?? {}) as Record<string, unknown>)) {
    if (v === null) delete target[k];
    else if (typeof v === 'object' && !Array.isArray(v) && typeof target[k] === 'object' && target[k] !== null) merge(target[k] as Record<string, unknown>, v);
    else target[k] = v;
  }
}

/** `/spec/template/spec/containers/0/image` → `spec.template.spec.containers[0].image`. */
function fieldPath(pointer: string): string {
  return pointer.split('/').slice(1).reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '') || '<root>';
}
