import type { EventRecorder } from '../operator/events.js';
import type { KubeObject } from '../operator/kube/object.js';
import { CoreResources, MeshOsResources, apiVersionOf } from '../operator/kube/resources.js';
import type { ActionTarget } from './contract.js';
import type { DecisionOutcome, DecisionRecord } from './decision-log.js';

/** Events of the kernel carry this reporting controller, so `mesh log` can find them. */
export const KERNEL_REPORTER = 'meshos.dev/kernel';

export const eventReasons: Record<DecisionOutcome, string> = {
  proposed: 'ActionProposed',
  allowed: 'ActionAllowed',
  blocked: 'ActionBlocked',
  held: 'ActionHeld',
  approved: 'ActionApproved',
  executed: 'ActionExecuted',
  failed: 'ActionFailed',
  verified: 'ActionVerified',
  'rolled-back': 'ActionRolledBack',
  overridden: 'ActionOverridden',
};

const warnings = new Set<DecisionOutcome>(['blocked', 'failed', 'rolled-back']);

/** The object an Event about this target is attached to. */
export function targetReference(target: ActionTarget): KubeObject {
  const type = {
    Mesh: MeshOsResources.mesh,
    Agent: MeshOsResources.agent,
    Proposal: MeshOsResources.proposal,
    Node: CoreResources.node,
    Pod: CoreResources.pod,
  }[target.kind];
  return {
    apiVersion: apiVersionOf(type),
    kind: type.kind,
    metadata: { name: target.name, ...(target.namespace ? { namespace: target.namespace } : {}) },
  };
}

/** Mirrors each decision as a Kubernetes Event on its target: module/kind as action, outcome as reason. */
export function recordDecisionEvent(recorder: EventRecorder, record: DecisionRecord): void {
  recorder.record(targetReference(record.target), {
    type: warnings.has(record.outcome) ? 'Warning' : 'Normal',
    reason: eventReasons[record.outcome],
    action: `${record.module}/${record.kind}`,
    note: `${record.reason} (action ${record.actionId}, risk ${record.risk ?? '-'}, mesh ${record.target.mesh})`,
  });
}
