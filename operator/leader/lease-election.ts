import type { KubeClient } from '../kube/client.js';
import { getErrorMessage, isConflict, isAlreadyExists, isNotFound } from '../kube/errors.js';
import type { KubeObject } from '../kube/object.js';
import { CoreResources } from '../kube/resources.js';
import { systemClock, type Clock } from '../ratelimit/clock.js';

export interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  /** How long a non-leader waits after the last observed renewal before taking over. */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it gives up leadership. */
  renewDeadlineMs?: number;
  /** Pause between attempts. */
  retryPeriodMs?: number;
  clock?: Clock;
  /** Starts the leader's work; the returned promise must settle soon after `leadership` aborts. */
  onStartedLeading: (leadership: AbortSignal) => Promise<void> | void;
  onStoppedLeading?: () => void;
  onNewLeader?: (identity: string) => void;
  onLog?: (level: 'info' | 'warn', message: string, fields: Record<string, unknown>) => void;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
export const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/**
 * Leader election on a coordination.k8s.io Lease, as client-go does it: updates carry the
 * resourceVersion they read (optimistic concurrency), and expiry is judged by when this
 * process last saw the lease change, not by the holder's clock.
 */
export class LeaseElection {
  private observedRecord = '';
  private renewedAt = 0;
  private expiresAt = 0;
  private leading = false;
  private currentLeader = '';
  private readonly clock: Clock;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;

  constructor(
    private readonly client: KubeClient,
    private readonly options: LeaderElectionOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs)) {
      throw new RangeError('leader election needs leaseDuration > renewDeadline > retryPeriod');
    }
  }

  isLeader(): boolean {
    return this.leading;
  }

  get leader(): string {
    return this.currentLeader;
  }

  /** Campaigns until elected, leads until renewal fails or `signal` aborts, then releases the lease. */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && !(await this.tryAcquireOrRenew())) {
      await this.clock.sleep(this.nextAttemptDelay(), signal);
    }
    if (signal.aborted) return;
    this.leading = true;
    this.log('info', 'Acquired leader lease', {});
    const leadership = new AbortController();
    const work = Promise.resolve(this.options.onStartedLeading(leadership.signal));
    try {
      // Leadership also ends if the leader's work stops by itself (for example a fatal error).
      await Promise.race([this.renewLoop(AbortSignal.any([signal, leadership.signal])), work.finally(() => leadership.abort())]);
    } finally {
      this.leading = false;
      leadership.abort();
      // Wait for the work to stop before giving the lease away, so two leaders never overlap.
      await work.catch(() => undefined);
      if (signal.aborted) await this.release();
      this.log('info', 'Stopped leading', {});
      this.options.onStoppedLeading?.();
    }
  }

  private async renewLoop(signal: AbortSignal): Promise<void> {
    let lastRenewal = this.clock.now();
    while (!signal.aborted) {
      await this.clock.sleep(this.retryPeriodMs, signal);
      if (signal.aborted) return;
      if (await this.tryAcquireOrRenew()) {
        lastRenewal = this.clock.now();
      } else if (this.clock.now() - lastRenewal >= this.renewDeadlineMs) {
        this.log('warn', 'Failed to renew leader lease within the renew deadline', { renewDeadlineMs: this.renewDeadlineMs });
        return;
      }
    }
  }

  /** One attempt; true when this process holds the lease afterwards. */
  async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.options;
    const now = this.clock.now();
    const durationSeconds = Math.ceil(this.leaseDurationMs / 1000);
    let lease: Lease;
    try {
      lease = await this.client.get<Lease>(CoreResources.lease, namespace, name);
    } catch (error) {
      if (!isNotFound(error)) {
        this.log('warn', 'Failed to read leader lease', { error: getErrorMessage(error) });
        return false;
      }
      try {
        await this.client.create<Lease>(CoreResources.lease, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name, namespace },
          spec: {
            holderIdentity: identity,
            leaseDurationSeconds: durationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: 0,
          },
        });
        this.observe(identity, `${identity}@${microTime(now)}`, now);
        return true;
      } catch (createError) {
        if (!isAlreadyExists(createError)) this.log('warn', 'Failed to create leader lease', { error: getErrorMessage(createError) });
        return false;
      }
    }

    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = `${holder}@${spec.renewTime ?? ''}`;
    if (record !== this.observedRecord) this.observe(holder, record, now, spec.renewTime);
    const heldByOther = holder !== '' && holder !== identity;
    this.expiresAt = this.renewedAt + (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (heldByOther && now < this.expiresAt) return false;

    const takingOver = holder !== identity;
    const updated: Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        renewTime: microTime(now),
        acquireTime: takingOver ? microTime(now) : (spec.acquireTime ?? microTime(now)),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (takingOver && holder !== '' ? 1 : 0),
      },
    };
    try {
      const saved = await this.client.replace<Lease>(CoreResources.lease, updated);
      this.observe(identity, `${identity}@${saved.spec?.renewTime ?? ''}`, now);
      return true;
    } catch (error) {
      if (!isConflict(error)) this.log('warn', 'Failed to update leader lease', { error: getErrorMessage(error) });
      return false;
    }
  }

  /** A candidate wakes at the observed expiry if that comes before the next regular retry. */
  private nextAttemptDelay(): number {
    const untilExpiry = this.expiresAt - this.clock.now();
    return untilExpiry > 0 ? Math.min(this.retryPeriodMs, untilExpiry + 5) : this.retryPeriodMs;
  }

  /** Gives the lease up on clean shutdown so a standby takes over at once instead of after expiry. */
  private async release(): Promise<void> {
    const { namespace, name, identity } = this.options;
    try {
      const lease = await this.client.get<Lease>(CoreResources.lease, namespace, name);
      if (lease.spec?.holderIdentity !== identity) return;
      await this.client.replace<Lease>(CoreResources.lease, {
        ...lease,
        spec: { ...lease.spec, holderIdentity: null, acquireTime: null, renewTime: null, leaseDurationSeconds: 1 },
      });
      this.log('info', 'Released leader lease', {});
    } catch (error) {
      this.log('warn', 'Failed to release leader lease', { error: getErrorMessage(error) });
    }
  }

  /**
   * Notes a new lease record. The renewal counts from when this process first saw it (as
   * client-go does, so clock skew cannot shorten a lease), moved back to the holder's renewTime
   * by at most one retry period: polling every retry period sees a renewal up to that late, and
   * without the correction a candidate would take over up to a retry period after expiry.
   */
  private observe(holder: string, record: string, now: number, renewTime?: string | null): void {
    this.observedRecord = record;
    const renewed = renewTime ? Date.parse(renewTime) : Number.NaN;
    this.renewedAt = Number.isFinite(renewed) && renewed <= now ? Math.max(renewed, now - this.retryPeriodMs) : now;
    if (holder !== this.currentLeader) {
      this.currentLeader = holder;
      if (holder !== '') this.options.onNewLeader?.(holder);
    }
  }

  private log(level: 'info' | 'warn', message: string, fields: Record<string, unknown>): void {
    this.options.onLog?.(level, message, { lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity, ...fields });
  }
}
