import type { ActionTarget } from './contract.js';

export type DecisionOutcome =
  | 'proposed'
  | 'allowed'
  | 'blocked'
  | 'held'
  | 'approved'
  | 'executed'
  | 'failed'
  | 'verified'
  | 'rolled-back'
  | 'overridden';

export interface DecisionRecord {
  seq: number;
  time: string;
  actionId: string;
  module: string;
  kind: string;
  target: ActionTarget;
  outcome: DecisionOutcome;
  reason: string;
  risk?: number;
  /** For verification: the metric before and after. */
  measured?: { metric: string; before?: number; after?: number };
}

export interface DecisionQuery {
  module?: string;
  outcome?: DecisionOutcome;
  actionId?: string;
  /** `namespace/name` or `name` of the target. */
  target?: string;
  mesh?: string;
  sinceSeq?: number;
  limit?: number;
}

const targetKey = (target: ActionTarget): string => (target.namespace ? `${target.namespace}/${target.name}` : target.name);

/**
 * Every step of every autonomous action, newest last, in a ring of fixed capacity: the
 * operator's memory stays bounded however long it runs. Listeners mirror records elsewhere
 * (Kubernetes Events, metrics).
 */
export class DecisionLog {
  private records: DecisionRecord[] = [];
  /** Index of the oldest kept record; the array is compacted now and then instead of shifted per record. */
  private head = 0;
  private nextSeq = 1;
  private readonly listeners: ((record: DecisionRecord) => void)[] = [];

  constructor(readonly capacity = 10_000) {
    if (!(capacity >= 1)) throw new RangeError('capacity must be >= 1');
  }

  onRecord(listener: (record: DecisionRecord) => void): void {
    this.listeners.push(listener);
  }

  record(entry: Omit<DecisionRecord, 'seq' | 'time'>, now: Date = new Date()): DecisionRecord {
    const record: DecisionRecord = { seq: this.nextSeq++, time: now.toISOString(), ...entry };
    this.records.push(record);
    if (this.records.length - this.head > this.capacity) this.head++;
    if (this.head >= this.capacity) {
      this.records = this.records.slice(this.head);
      this.head = 0;
    }
    for (const listener of this.listeners) listener(record);
    return record;
  }

  get size(): number {
    return this.records.length - this.head;
  }

  /** Matching records, oldest first; `limit` keeps the newest. */
  query(query: DecisionQuery = {}): DecisionRecord[] {
    const found = this.records.slice(this.head).filter(
      (r) =>
        (query.module === undefined || r.module === query.module) &&
        (query.outcome === undefined || r.outcome === query.outcome) &&
        (query.actionId === undefined || r.actionId === query.actionId) &&
        (query.mesh === undefined || r.target.mesh === query.mesh) &&
        (query.target === undefined || targetKey(r.target) === query.target || r.target.name === query.target) &&
        (query.sinceSeq === undefined || r.seq > query.sinceSeq),
    );
    return query.limit !== undefined ? found.slice(-query.limit) : found;
  }
}
