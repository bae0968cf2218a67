/**
 * core/v1 Events as the kubelet, scheduler and Job controller record them: one object per
 * (object, reason, message), whose count and lastTimestamp grow when it repeats.
 */
import { randomBytes } from 'node:crypto';
import { now, type Obj, type Store } from './store.js';

export class EventRecorder {
  constructor(private readonly store: Store) {}

  record(about: Obj, type: 'Normal' | 'Warning', reason: string, message: string, component: string): void {
    const { namespace, name, uid } = about.metadata;
    const same = this.store.list('events', namespace).find((e) => {
      const o = e.involvedObject as { uid?: string };
      return o.uid === uid && e.reason === reason && e.message === message;
    });
    if (same) {
      this.store.mutate('events', namespace, same.metadata.name, (e) => {
        e.count = (e.count as number) + 1;
        e.lastTimestamp = now();
      });
      return;
    }
    this.store.create('events', {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${name}.${randomBytes(8).toString('hex')}`, namespace, uid: '', resourceVersion: '', creationTimestamp: '' },
      involvedObject: { apiVersion: about.apiVersion, kind: about.kind, namespace, name, uid, resourceVersion: about.metadata.resourceVersion },
      reason,
      message,
      type,
      count: 1,
      firstTimestamp: now(),
      lastTimestamp: now(),
      source: { component },
      reportingComponent: component,
      reportingInstance: '',
    });
  }
}
