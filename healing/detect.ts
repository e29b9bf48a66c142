// Node failure detection, pure: heartbeats (node Leases) and Ready conditions go in, a verdict
// per node comes out. A small state machine per node gives hysteresis so that a heartbeat
// flapping around the timeout neither remediates twice nor untaints a node that is not stable.

/** What the detector needs to know about one node at one instant. */
export interface NodeObservation {
  name: string;
  /** Zone label (topology.kubernetes.io/zone), when the node has one. */
  zone?: string;
  /** Last renewal of the node's Lease in kube-node-lease (ms since epoch); undefined = no Lease seen. */
  leaseRenewedAt?: number;
  /** Status of the node's Ready condition. */
  ready?: 'True' | 'False' | 'Unknown';
  /** When the node object was created (a node without a Lease yet is given one timeout from here). */
  createdAt?: number;
}

export type NodeState = 'Healthy' | 'Failed' | 'Recovering';

export interface NodeHealth {
  state: NodeState;
  /** Last heartbeat before the current failure (ms). */
  lastHeartbeatAt?: number;
  /** When the failure was detected (ms). */
  failedAt?: number;
  /** When heartbeats came back (ms), while Recovering. */
  recoveringSince?: number;
  /** Why the node is failed: `lease` (heartbeat missing) or `ready` (Ready False/Unknown). */
  cause?: 'lease' | 'ready';
  /** Failures of this node in the flap window, for the recovery hysteresis. */
  recentFailures: number[];
}

export interface DetectorSettings {
  heartbeatTimeoutMs: number;
  /**
   * How long heartbeats must be back before a failed node counts as healthy again; doubled for
   * each further failure in the flap window (a flapping node waits longer), up to 8x.
   */
  recoveryStableMs: number;
  /** Window in which repeated failures of one node count as flapping. */
  flapWindowMs: number;
}

export function detectorSettings(heartbeatTimeoutSeconds: number): DetectorSettings {
  const heartbeatTimeoutMs = heartbeatTimeoutSeconds * 1000;
  return { heartbeatTimeoutMs, recoveryStableMs: Math.max(2 * heartbeatTimeoutMs, 10_000), flapWindowMs: Math.max(20 * heartbeatTimeoutMs, 300_000) };
}

/** Why the node looks failed right now (before hysteresis), or undefined when it looks alive. */
export function instantFailure(node: NodeObservation, now: number, settings: DetectorSettings): 'lease' | 'ready' | undefined {
  const heartbeat = node.leaseRenewedAt ?? node.createdAt;
  if (heartbeat !== undefined && now - heartbeat > settings.heartbeatTimeoutMs) return 'lease';
  // Ready False/Unknown counts only while the Lease is not fresh evidence of the opposite for the
  // Lease path; a node whose kubelet reports NotReady is failed even when it still heartbeats.
  if (node.ready === 'False' || node.ready === 'Unknown') return 'ready';
  return undefined;
}

export function recoveryDelayMs(health: Pick<NodeHealth, 'recentFailures'>, settings: DetectorSettings): number {
  const flaps = Math.max(0, health.recentFailures.length - 1);
  return settings.recoveryStableMs * Math.min(8, 2 ** flaps);
}

/**
 * Advances one node's state: Healthy -> Failed when its heartbeat is older than the timeout or
 * Ready is False/Unknown; Failed -> Recovering when it looks alive again; Recovering -> Healthy
 * after it stayed alive for the recovery delay, or back to Failed (same incident) when it fails
 * again meanwhile.
 */
export function advanceNode(previous: NodeHealth | undefined, node: NodeObservation, now: number, settings: DetectorSettings): NodeHealth {
  const current: NodeHealth = previous ?? { state: 'Healthy', recentFailures: [] };
  const recentFailures = current.recentFailures.filter((at) => now - at < settings.flapWindowMs);
  const failure = instantFailure(node, now, settings);
  const heartbeat = node.leaseRenewedAt ?? node.createdAt;
  switch (current.state) {
    case 'Healthy':
      if (!failure) return { state: 'Healthy', recentFailures, ...(heartbeat !== undefined ? { lastHeartbeatAt: heartbeat } : {}) };
      return {
        state: 'Failed',
        failedAt: now,
        cause: failure,
        recentFailures: [...recentFailures, now],
        ...(heartbeat !== undefined ? { lastHeartbeatAt: heartbeat } : {}),
      };
    case 'Failed':
      if (failure) return { ...current, recentFailures };
      return { ...current, state: 'Recovering', recoveringSince: now, recentFailures };
    case 'Recovering': {
      if (failure) {
        // Back down before it was stable: the same incident goes on; count it as a flap.
        const { recoveringSince: _dropped, ...rest } = current;
        return { ...rest, state: 'Failed', recentFailures: [...recentFailures, now] };
      }
      if (now - (current.recoveringSince ?? now) >= recoveryDelayMs({ recentFailures }, settings)) {
        return { state: 'Healthy', recentFailures, ...(heartbeat !== undefined ? { lastHeartbeatAt: heartbeat } : {}) };
      }
      return { ...current, recentFailures };
    }
  }
}

export interface PartitionVerdict {
  suspected: boolean;
  /** Human-readable reason when suspected. */
  reason?: string;
  failedPercent: number;
  /** Zones all of whose nodes are down. */
  zonesDown: string[];
}

/**
 * A partition is suspected when more than `maxUnhealthyPercent` of the nodes are failed at once,
 * or every node of a zone (of two or more nodes) is: then the operator is the likelier one cut
 * off, and mass eviction would make things worse.
 */
export function assessPartition(nodes: readonly NodeObservation[], failed: ReadonlySet<string>, maxUnhealthyPercent: number): PartitionVerdict {
  const total = nodes.length;
  const down = nodes.filter((n) => failed.has(n.name)).length;
  const failedPercent = total === 0 ? 0 : (100 * down) / total;
  const zones = new Map<string, { total: number; down: number }>();
  for (const node of nodes) {
    if (!node.zone) continue;
    const zone = zones.get(node.zone) ?? { total: 0, down: 0 };
    zone.total++;
    if (failed.has(node.name)) zone.down++;
    zones.set(node.zone, zone);
  }
  const zonesDown = [...zones.entries()].filter(([, z]) => z.total >= 2 && z.down === z.total).map(([name]) => name).sort();
  if (down > 1 && failedPercent > maxUnhealthyPercent) {
    return { suspected: true, reason: `${down} of ${total} nodes (${failedPercent.toFixed(1)}%) failed at once, over maxUnhealthyPercent ${maxUnhealthyPercent}`, failedPercent, zonesDown };
  }
  if (zonesDown.length > 0) return { suspected: true, reason: `every node of zone ${zonesDown.join(', ')} failed at once`, failedPercent, zonesDown };
  return { suspected: false, failedPercent, zonesDown };
}

/** Agent replica health from its pods: not ready, crash-looping, or missing heartbeats. */
export interface PodObservation {
  name: string;
  nodeName?: string;
  ready: boolean;
  /** Highest container restart count. */
  restarts: number;
  /** A container waiting in CrashLoopBackOff. */
  crashLooping: boolean;
  /** Last agent heartbeat (its own Lease or readiness report), when the agent reports one. */
  heartbeatAt?: number;
  createdAt?: number;
}

export type ReplicaProblem = 'not-ready' | 'crash-looping' | 'heartbeat-missing';

/** Problems of one agent replica; a replica still in its first timeout after creation is given time. */
export function replicaProblems(pod: PodObservation, now: number, heartbeatTimeoutMs: number): ReplicaProblem[] {
  const problems: ReplicaProblem[] = [];
  if (pod.crashLooping) problems.push('crash-looping');
  const young = pod.createdAt !== undefined && now - pod.createdAt < heartbeatTimeoutMs;
  if (!pod.ready && !young) problems.push('not-ready');
  if (pod.heartbeatAt !== undefined && now - pod.heartbeatAt > heartbeatTimeoutMs) problems.push('heartbeat-missing');
  return problems;
}
