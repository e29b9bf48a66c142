// Failing and reviving kwok nodes for chaos tests and the benchmark. kwok keeps renewing a node's
// Lease even after the node leaves its annotation selector (seen here with kwok 0.8), but it
// never renews a Lease another holder holds and has not let expire: so a node "dies" when its
// Lease is taken over (renewTime left as it was: the last heartbeat) and "comes back" when the
// Lease is handed back to kwok.
import type { KubeClient } from '../operator/kube/client.js';
import { CoreResources } from '../operator/kube/resources.js';
import type { LeaseObject } from './module.js';
import { NODE_LEASE_NAMESPACE } from './module.js';

export const CHAOS_HOLDER = 'meshos-chaos';

export interface HeldLease {
  node: string;
  holder: string;
  durationSeconds: number;
}

/** Stops a kwok node's heartbeat; returns what `resumeHeartbeat` needs. */
export async function stopHeartbeat(client: KubeClient, node: string, holder = CHAOS_HOLDER): Promise<HeldLease> {
  const lease = await client.get<LeaseObject>(CoreResources.lease, NODE_LEASE_NAMESPACE, node);
  const previous = { node, holder: lease.spec?.holderIdentity ?? '', durationSeconds: lease.spec?.leaseDurationSeconds ?? 40 };
  if (previous.holder === holder) throw new Error(`node ${node}'s heartbeat is already stopped`);
  await client.patch(CoreResources.lease, NODE_LEASE_NAMESPACE, node, { spec: { holderIdentity: holder, leaseDurationSeconds: 3600 } });
  return previous;
}

/**
 * Releases the Lease (no holder), so kwok acquires it within one renew interval. kwok must
 * take it over itself: only a change of holder on its own renewal makes it manage the node
 * again and go back over the pods bound there while it did not hold the Lease. Writing kwok's
 * identity back for it left those pods Pending for good when one was bound in that window.
 */
export async function resumeHeartbeat(client: KubeClient, held: HeldLease): Promise<void> {
  await client.patch(CoreResources.lease, NODE_LEASE_NAMESPACE, held.node, { spec: { holderIdentity: null, leaseDurationSeconds: held.durationSeconds } });
}

/** Renews a Lease as its holder would, at the given time (a heartbeat source with chosen jitter). */
export async function renewLease(client: KubeClient, node: string, at: Date, holder: string, durationSeconds: number): Promise<void> {
  await client.patch(CoreResources.lease, NODE_LEASE_NAMESPACE, node, {
    spec: { holderIdentity: holder, leaseDurationSeconds: durationSeconds, renewTime: at.toISOString().replace('Z', '000Z') },
  });
}
