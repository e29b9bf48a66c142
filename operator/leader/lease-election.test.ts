import { describe, expect, it } from 'vitest';
import { ApiError } from '../kube/errors.js';
import type { KubeClient } from '../kube/client.js';
import { ManualClock } from '../ratelimit/manual-clock.js';
import { LeaseElection, type Lease } from './lease-election.js';

/** An in-memory Lease endpoint with resourceVersion conflicts, enough for the election logic. */
class FakeLeases {
  lease: Lease | undefined;
  private version = 1;
  failing = false;

  client(): KubeClient {
    const store = (): FakeLeases => this;
    return {
      get: () =>
        Promise.resolve().then(() => {
          if (store().failing) throw new ApiError(503, 'ServiceUnavailable', 'down');
          if (!store().lease) throw new ApiError(404, 'NotFound', 'not found');
          return structuredClone(store().lease);
        }),
      create: (_type: unknown, object: Lease) =>
        Promise.resolve().then(() => {
          if (store().failing) throw new ApiError(503, 'ServiceUnavailable', 'down');
          if (store().lease) throw new ApiError(409, 'AlreadyExists', 'exists');
          store().lease = { ...structuredClone(object), metadata: { ...object.metadata, resourceVersion: String(++store().version) } };
          return structuredClone(store().lease);
        }),
      replace: (_type: unknown, object: Lease) =>
        Promise.resolve().then(() => {
          if (store().failing) throw new ApiError(503, 'ServiceUnavailable', 'down');
          if (object.metadata.resourceVersion !== store().lease?.metadata.resourceVersion) throw new ApiError(409, 'Conflict', 'conflict');
          store().lease = { ...structuredClone(object), metadata: { ...object.metadata, resourceVersion: String(++store().version) } };
          return structuredClone(store().lease);
        }),
    } as unknown as KubeClient;
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

function candidate(leases: FakeLeases, clock: ManualClock, identity: string, log: string[]) {
  return new LeaseElection(leases.client(), {
    namespace: 'ns',
    name: 'lock',
    identity,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    clock,
    onStartedLeading: (leadership) =>
      new Promise<void>((resolve) => {
        log.push(`${identity} leads`);
        leadership.addEventListener('abort', () => resolve(), { once: true });
      }),
    onStoppedLeading: () => log.push(`${identity} stopped`),
  });
}

async function advance(clock: ManualClock, ms: number, step = 500): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await flush();
  }
}

describe('LeaseElection', () => {
  it('elects one of two candidates and keeps it while it renews', async () => {
    const leases = new FakeLeases();
    const clock = new ManualClock();
    const log: string[] = [];
    const a = candidate(leases, clock, 'a', log);
    const b = candidate(leases, clock, 'b', log);
    const stop = new AbortController();
    void a.run(stop.signal);
    await flush();
    void b.run(stop.signal);
    await advance(clock, 60_000);
    expect(log).toEqual(['a leads']);
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    expect(leases.lease?.spec?.holderIdentity).toBe('a');
    stop.abort();
  });

  it('takes over within the lease duration of the last renewal when the leader dies', async () => {
    const leases = new FakeLeases();
    const clock = new ManualClock();
    const log: string[] = [];
    // "a" gets a client that hangs forever once frozen: a process that died without releasing.
    let frozen = false;
    const live = leases.client();
    const aClient = new Proxy(live, {
      get: (target, key) => (...args: unknown[]) =>
        frozen ? new Promise(() => undefined) : (target[key as keyof KubeClient] as (...a: unknown[]) => unknown)(...args),
    });
    const a = new LeaseElection(aClient, {
      namespace: 'ns', name: 'lock', identity: 'a', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, clock,
      onStartedLeading: () => void log.push('a leads'),
    });
    void a.run(new AbortController().signal);
    await flush();
    const b = candidate(leases, clock, 'b', log);
    void b.run(new AbortController().signal);
    await advance(clock, 7_000, 100);
    frozen = true;
    const lastRenewal = Date.parse(leases.lease?.spec?.renewTime ?? '');
    while (!b.isLeader()) await advance(clock, 100, 100);
    const takeover = clock.now() - lastRenewal;
    expect(takeover).toBeGreaterThanOrEqual(15_000);
    expect(takeover).toBeLessThanOrEqual(15_200);
    expect(log).toEqual(['a leads', 'b leads']);
    expect(leases.lease?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('gives up leadership when it cannot renew within the renew deadline', async () => {
    const leases = new FakeLeases();
    const clock = new ManualClock();
    const log: string[] = [];
    const a = candidate(leases, clock, 'a', log);
    const done = a.run(new AbortController().signal);
    await advance(clock, 4_000);
    leases.failing = true;
    await advance(clock, 12_000);
    await done;
    expect(log).toEqual(['a leads', 'a stopped']);
    expect(a.isLeader()).toBe(false);
  });

  it('releases the lease on a clean stop so another candidate acquires it at once', async () => {
    const leases = new FakeLeases();
    const clock = new ManualClock();
    const log: string[] = [];
    const stop = new AbortController();
    const done = candidate(leases, clock, 'a', log).run(stop.signal);
    await advance(clock, 2_000);
    stop.abort();
    await done;
    expect(leases.lease?.spec?.holderIdentity).toBeNull();
    const b = candidate(leases, clock, 'b', log);
    void b.run(new AbortController().signal);
    await flush();
    expect(b.isLeader()).toBe(true);
  });

  it('refuses timings that cannot work', () => {
    expect(() =>
      new LeaseElection(new FakeLeases().client(), { namespace: 'n', name: 'l', identity: 'i', leaseDurationMs: 5000, renewDeadlineMs: 6000, onStartedLeading: () => undefined }),
    ).toThrow(/leaseDuration > renewDeadline > retryPeriod/);
  });
});
