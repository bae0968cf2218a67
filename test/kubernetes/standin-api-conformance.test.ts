/**
 * Pins down what the stand-in API server (not a live cluster) answers at the HTTP level, against
 * the Kubernetes API reference: Status objects for 401/403/404/409/422, list shapes, and the watch
 * stream as newline-delimited JSON events. If this drifts from the real API, the launcher test
 * proves less.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin, waitFor, type Standin } from './standin/harness.js';

describe('the stand-in Kubernetes API server speaks the documented API (not a live cluster)', () => {
  let standin: Standin;
  const auth = { Authorization: 'Bearer standin-bearer-token' };
  const call = (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) =>
    fetch(`${standin.url}${path}`, {
      method,
      headers: { ...auth, ...(body !== undefined && { 'Content-Type': 'application/json' }), ...headers },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  const secret = (name: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, labels: { t: 'conformance' } }, data: { k: Buffer.from('v').toString('base64') } });

  beforeAll(async () => {
    standin = await startStandin();
  });
  afterAll(async () => {
    await standin.close();
  });

  it('404: a Status object naming the resource', async () => {
    const res = await call('GET', '/apis/batch/v1/namespaces/clustrix/jobs/missing');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'jobs.batch "missing" not found',
      reason: 'NotFound', details: { name: 'missing', group: 'batch', kind: 'jobs' }, code: 404,
    });
  });

  it('201 then 409: create, then create again', async () => {
    const created = await call('POST', '/api/v1/namespaces/clustrix/secrets', secret('s1'));
    expect(created.status).toBe(201);
    const body = (await created.json()) as { kind: string; metadata: { uid: string; resourceVersion: string; creationTimestamp: string } };
    expect(body.kind).toBe('Secret');
    expect(body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const again = await call('POST', '/api/v1/namespaces/clustrix/secrets', secret('s1'));
    expect(again.status).toBe(409);
    expect(await again.json()).toEqual({
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'secrets "s1" already exists',
      reason: 'AlreadyExists', details: { name: 's1', kind: 'secrets' }, code: 409,
    });
  });

  it('401 without the bearer token; 403 for what the Role does not grant', async () => {
    const anonymous = await fetch(`${standin.url}/api/v1/namespaces/clustrix/pods`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    const list = await call('GET', '/api/v1/namespaces/clustrix/secrets');
    expect(list.status).toBe(403);
    expect(await list.json()).toMatchObject({
      reason: 'Forbidden', code: 403,
      message: 'secrets is forbidden: User "system:serviceaccount:default:clustrix-coordinator" cannot list resource "secrets" in API group "" in the namespace "clustrix"',
    });
  });

  it('422: the schema and the API server rules reject an invalid Job', async () => {
    const res = await call('POST', '/apis/batch/v1/namespaces/clustrix/jobs', {
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'bad' },
      spec: { completionMode: 'Indexed', template: { spec: { restartPolicy: 'Always', containers: [{ name: 'a', image: 'i', resources: { requests: { cpu: 'two' } } }] } } },
    });
    expect(res.status).toBe(422);
    const status = (await res.json()) as { reason: string; message: string; details: { causes: { field: string }[] } };
    expect(status.reason).toBe('Invalid');
    expect(status.message).toMatch(/^Job\.batch "bad" is invalid: /);
    expect(status.details.causes.map((c) => c.field)).toEqual(expect.arrayContaining([
      'spec.template.spec.containers[0].resources.requests.cpu', 'spec.template.spec.restartPolicy', 'spec.completions',
    ]));
  });

  it('lists carry kind and resourceVersion; their items do not repeat kind', async () => {
    await call('POST', '/apis/batch/v1/namespaces/clustrix/jobs', {
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'listed', labels: { t: 'listed' } },
      spec: { suspend: true, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'a', image: 'i' }] } } },
    });
    const res = await call('GET', '/apis/batch/v1/namespaces/clustrix/jobs?labelSelector=t%3Dlisted');
    const list = (await res.json()) as { kind: string; apiVersion: string; metadata: { resourceVersion: string }; items: Record<string, unknown>[] };
    expect(list).toMatchObject({ kind: 'JobList', apiVersion: 'batch/v1', metadata: { resourceVersion: expect.stringMatching(/^\d+$/) } });
    expect(list.items.map((i) => (i.metadata as { name: string }).name)).toEqual(['listed']);
    expect(list.items[0]).not.toHaveProperty('kind');
    expect(list.items[0]).toMatchObject({ spec: { selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': expect.any(String) } } } });
    // The Job controller records its event a moment after the create.
    const events = await waitFor('the Suspended event', async () => {
      const list = (await (await call('GET', '/api/v1/namespaces/clustrix/events?fieldSelector=involvedObject.kind%3DJob%2CinvolvedObject.name%3Dlisted')).json()) as { items: unknown[] };
      return list.items.length > 0 ? list : undefined;
    });
    expect(events).toMatchObject({ kind: 'EventList', items: [{ reason: 'Suspended', involvedObject: { kind: 'Job', name: 'listed' } }] });
    expect(await (await call('GET', '/api/v1/namespaces/clustrix/pods?labelSelector=a%20b')).json()).toMatchObject({ code: 400, reason: 'BadRequest' });
  });

  it('watch: newline-delimited {type, object} events from a resourceVersion, filtered by label', async () => {
    const rv = ((await (await call('GET', '/apis/batch/v1/namespaces/clustrix/jobs')).json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const controller = new AbortController();
    const res = await fetch(`${standin.url}/apis/batch/v1/namespaces/clustrix/jobs?watch=true&resourceVersion=${rv}&labelSelector=t%3Dwatched`, { headers: auth, signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const job = (name: string, t: string) => ({
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name, labels: { t } },
      spec: { suspend: true, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'a', image: 'i' }] } } },
    });
    await call('POST', '/apis/batch/v1/namespaces/clustrix/jobs', job('ignored', 'other'));
    await call('POST', '/apis/batch/v1/namespaces/clustrix/jobs', job('w1', 'watched'));
    await call('PATCH', '/apis/batch/v1/namespaces/clustrix/jobs/w1', [{ op: 'replace', path: '/spec/suspend', value: true }], { 'Content-Type': 'application/json-patch+json' });
    await call('DELETE', '/apis/batch/v1/namespaces/clustrix/jobs/w1?propagationPolicy=Background');

    const reader = res.body?.getReader();
    let text = '';
    while (!/"DELETED"/.test(text)) {
      const chunk = await reader?.read();
      if (!chunk || chunk.done) break;
      text += Buffer.from(chunk.value).toString();
    }
    controller.abort();
    const events = text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; object: { kind: string; metadata: { name: string } } });
    expect(events.every((e) => e.object.kind === 'Job' && e.object.metadata.name === 'w1')).toBe(true);
    expect(events[0]?.type).toBe('ADDED');
    expect(events.at(-1)?.type).toBe('DELETED');
    expect(events.map((e) => e.type)).toContain('MODIFIED');
  });

  it('DELETE: foreground keeps the object (deletionTimestamp, finalizer) until dependents are gone', async () => {
    await call('POST', '/apis/batch/v1/namespaces/clustrix/jobs', {
      apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'fg' },
      spec: { suspend: true, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'a', image: 'i' }] } } },
    });
    const res = await call('DELETE', '/apis/batch/v1/namespaces/clustrix/jobs/fg?propagationPolicy=Foreground');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ kind: 'Job', metadata: { name: 'fg', deletionTimestamp: expect.any(String), finalizers: ['foregroundDeletion'] } });
    const gone = await call('DELETE', '/api/v1/namespaces/clustrix/secrets/s1');
    expect(await gone.json()).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 's1', kind: 'secrets' } });
  });
});
