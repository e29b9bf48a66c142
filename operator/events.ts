import type { KubeClient } from './kube/client.js';
import { getErrorMessage } from './kube/errors.js';
import type { KubeObject } from './kube/object.js';
import { CoreResources } from './kube/resources.js';
import { microTime } from './leader/lease-election.js';
import type { OperatorMetrics } from './metrics.js';
import type { Logger } from './log.js';

export type EventType = 'Normal' | 'Warning';

export interface EventRecord {
  type: EventType;
  reason: string;
  action: string;
  note: string;
}

/**
 * Writes events.k8s.io/v1 Events for decisions, off the reconcile path: a bounded queue
 * drained by a few writers, so a slow API server delays events rather than reconciles, and
 * an overflow drops events (counted) instead of growing memory, as client-go's broadcaster does.
 */
export class EventRecorder {
  private readonly pending: KubeObject[] = [];
  private writers = 0;
  private sequence = 0;

  constructor(
    private readonly client: KubeClient,
    private readonly options: {
      controller: string;
      instance: string;
      metrics?: OperatorMetrics;
      logger?: Logger;
      maxPending?: number;
      concurrency?: number;
    },
  ) {}

  record(regarding: KubeObject, event: EventRecord): void {
    const { metadata } = regarding;
    if ((this.pending.length) >= (this.options.maxPending ?? 2000)) {
      this.options.metrics?.apiEvents.inc({ type: event.type, result: 'dropped' });
      return;
    }
    const namespace = metadata.namespace ?? 'default';
    this.pending.push({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      // Named as client-go names them (object name, then a unique hex suffix).
      metadata: { name: `${metadata.name ?? 'object'}.${(Date.now() * 1000 + (this.sequence++ % 1000)).toString(16)}`, namespace },
      ...{
        eventTime: microTime(Date.now()),
        reportingController: this.options.controller,
        reportingInstance: this.options.instance,
        action: event.action,
        reason: event.reason,
        note: event.note.slice(0, 1024),
        type: event.type,
        regarding: {
          apiVersion: regarding.apiVersion,
          kind: regarding.kind,
          name: metadata.name,
          namespace: metadata.namespace,
          uid: metadata.uid,
          resourceVersion: metadata.resourceVersion,
        },
      },
    });
    this.drain();
  }

  /** Resolves when every queued event was written or given up. */
  async flush(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((this.pending.length > 0 || this.writers > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  private drain(): void {
    while (this.writers < (this.options.concurrency ?? 4) && this.pending.length > 0) {
      const event = this.pending.shift() as KubeObject & { type?: string };
      this.writers++;
      this.client
        .create(CoreResources.event, event)
        .then(() => this.options.metrics?.apiEvents.inc({ type: event.type ?? 'Normal', result: 'written' }))
        .catch((error: unknown) => {
          this.options.metrics?.apiEvents.inc({ type: event.type ?? 'Normal', result: 'failed' });
          this.options.logger?.warn({ error: getErrorMessage(error), reason: (event as { reason?: string }).reason }, 'Failed to write event');
        })
        .finally(() => {
          this.writers--;
          this.drain();
        });
    }
  }
}
