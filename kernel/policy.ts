// The policy gate: decides, from the Mesh's spec.policy, whether a proposed action may run now,
// must wait for approval, or is blocked, and why. Pure: the caller keeps the ledger of what ran.
import type { MeshSpec } from '../crds/types.js';
import type { ProposedAction } from './contract.js';

export type MeshPolicy = NonNullable<MeshSpec['policy']>;

/** At least this many independent coordinator evaluations approve an action (the floor). */
export const MIN_COORDINATOR_APPROVALS = 3;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** One executed action, as the caps count it. */
export interface LedgerEntry {
  at: number;
  /** Agents this action touched (namespace/name), for the per-hour agent cap. */
  agents: readonly string[];
  replicasAdded: number;
}

/**
 * The executed actions of one mesh over the last hour, kept as sliding-window counts so that a
 * policy check costs the same with 10 or 100,000 actions in the window.
 */
export class PolicyLedger {
  private readonly entries: LedgerEntry[] = [];
  private head = 0;
  private readonly agentCounts = new Map<string, number>();
  private replicas = 0;

  static of(entries: readonly LedgerEntry[]): PolicyLedger {
    const ledger = new PolicyLedger();
    for (const entry of [...entries].sort((a, b) => a.at - b.at)) ledger.add(entry);
    return ledger;
  }

  /** Records an executed action; entries arrive in time order. */
  add(entry: LedgerEntry): void {
    this.entries.push(entry);
    this.replicas += entry.replicasAdded;
    for (const agent of entry.agents) this.agentCounts.set(agent, (this.agentCounts.get(agent) ?? 0) + 1);
  }

  /** Drops what fell out of the hour before `now`. */
  private expire(now: number): void {
    while (this.head < this.entries.length && now - (this.entries[this.head] as LedgerEntry).at >= HOUR_MS) {
      const old = this.entries[this.head++] as LedgerEntry;
      this.replicas -= old.replicasAdded;
      for (const agent of old.agents) {
        const count = (this.agentCounts.get(agent) ?? 1) - 1;
        if (count <= 0) this.agentCounts.delete(agent);
        else this.agentCounts.set(agent, count);
      }
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Actions in the minute before `now` (binary search over the time-ordered window). */
  private countSince(since: number): number {
    let low = this.head;
    let high = this.entries.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.entries[mid] as LedgerEntry).at > since) high = mid;
      else low = mid + 1;
    }
    return this.entries.length - low;
  }

  summary(now: number): { actionsLastMinute: number; agentsTouched: ReadonlyMap<string, number>; replicasAdded: number } {
    this.expire(now);
    return { actionsLastMinute: this.countSince(now - MINUTE_MS), agentsTouched: this.agentCounts, replicasAdded: this.replicas };
  }
}

export type PolicyDecision =
  | { outcome: 'allowed'; reason: string }
  | { outcome: 'blocked'; rule: string; reason: string }
  | { outcome: 'held'; approvers: Approvers; reason: string };

export interface Approvers {
  human: boolean;
  /** Distinct coordinator approvals needed, or 0 when coordinators may not approve. */
  coordinators: number;
}

export interface PolicyInput {
  action: ProposedAction;
  /** Agents this action would touch (keys); defaults to its target when it is an Agent. */
  agents?: readonly string[];
  policy: MeshPolicy | undefined;
  /** Number of Agents in the mesh, for the percentage cap. */
  meshAgentCount: number;
  /** Actions executed in this mesh in the last hour. */
  ledger: PolicyLedger;
  now: Date;
}

export function approversFor(policy: MeshPolicy | undefined): Approvers {
  const coordinators = Math.max(MIN_COORDINATOR_APPROVALS, policy?.coordinatorApprovals ?? MIN_COORDINATOR_APPROVALS);
  switch (policy?.approvalMode ?? 'Human') {
    case 'Coordinators':
      return { human: false, coordinators };
    case 'HumanOrCoordinators':
      return { human: true, coordinators };
    default:
      return { human: true, coordinators: 0 };
  }
}

// Building an Intl.DateTimeFormat costs tens of microseconds: one per time zone, kept.
const clockFormats = new Map<string, Intl.DateTimeFormat>();

/** Minutes since midnight of `now` in an IANA time zone. */
export function minutesOfDay(now: Date, timeZone: string): number {
  let format = clockFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    clockFormats.set(timeZone, format);
  }
  const parts = format.formatToParts(now);
  const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const minute = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return hour * 60 + minute;
}

const toMinutes = (hhmm: string): number => {
  const [h, m] = hhmm.split(':');
  return Number(h) * 60 + Number(m);
};

/** The quiet-hours window `now` falls in, if any (a window whose end is before its start spans midnight). */
export function activeQuietHours(policy: MeshPolicy | undefined, now: Date): NonNullable<MeshPolicy['quietHours']>[number] | undefined {
  return policy?.quietHours?.find((window) => {
    const current = minutesOfDay(now, window.timezone ?? 'UTC');
    const start = toMinutes(window.start);
    const end = toMinutes(window.end);
    return start <= end ? current >= start && current < end : current >= start || current < end;
  });
}

export function agentsOf(action: ProposedAction): string[] {
  return action.target.kind === 'Agent' ? [`${action.target.namespace ?? ''}/${action.target.name}`] : [];
}

/**
 * Evaluates one action against the policy, in this order: quiet hours (only remediation runs),
 * rate limit, autonomy caps (agents touched, replicas added, per sliding hour), then the risk
 * ceiling (over it: held for approval). The first rule that stops an action names itself.
 */
export function evaluatePolicy(input: PolicyInput): PolicyDecision {
  const { action, policy, now } = input;
  const at = now.getTime();
  if (!(action.risk >= 0 && action.risk <= 1)) {
    return { outcome: 'blocked', rule: 'risk', reason: `risk must be within 0..1, got ${action.risk}` };
  }

  const quiet = activeQuietHours(policy, now);
  if (quiet && action.remediation !== true) {
    return {
      outcome: 'blocked',
      rule: 'quietHours',
      reason: `quiet hours ${quiet.start}-${quiet.end} ${quiet.timezone ?? 'UTC'}: only remediation runs`,
    };
  }

  const window = input.ledger.summary(at);
  const lastMinute = window.actionsLastMinute;
  if (policy?.maxActionsPerMinute !== undefined && lastMinute + 1 > policy.maxActionsPerMinute) {
    return { outcome: 'blocked', rule: 'maxActionsPerMinute', reason: `rate limit: ${lastMinute} actions in the last minute, at most ${policy.maxActionsPerMinute}` };
  }

  const agents = input.agents ?? agentsOf(action);
  if (policy?.maxAutonomousAgentPercentPerHour !== undefined && agents.length > 0) {
    const fresh = new Set(agents.filter((agent) => !window.agentsTouched.has(agent))).size;
    const touched = window.agentsTouched.size + fresh;
    const allowed = Math.floor((policy.maxAutonomousAgentPercentPerHour / 100) * input.meshAgentCount);
    if (touched > allowed) {
      return {
        outcome: 'blocked',
        rule: 'maxAutonomousAgentPercentPerHour',
        reason: `autonomy cap: ${touched} of ${input.meshAgentCount} agents would be touched this hour, at most ${policy.maxAutonomousAgentPercentPerHour}% (${allowed})`,
      };
    }
  }
  const replicas = action.replicasAdded ?? 0;
  if (policy?.maxReplicasAddedPerHour !== undefined && replicas > 0) {
    const added = window.replicasAdded;
    if (added + replicas > policy.maxReplicasAddedPerHour) {
      return {
        outcome: 'blocked',
        rule: 'maxReplicasAddedPerHour',
        reason: `autonomy cap: ${added} replicas added this hour + ${replicas} would exceed ${policy.maxReplicasAddedPerHour}`,
      };
    }
  }

  const ceiling = policy?.riskCeiling ?? 1;
  if (action.risk > ceiling) {
    const approvers = approversFor(policy);
    const who = [approvers.human ? 'a human' : '', approvers.coordinators > 0 ? `${approvers.coordinators} coordinators` : ''].filter(Boolean).join(' or ');
    return { outcome: 'held', approvers, reason: `risk ${action.risk} is above the ceiling ${ceiling}: needs approval by ${who}` };
  }
  return { outcome: 'allowed', reason: `risk ${action.risk} within ceiling ${ceiling}; within caps` };
}

/** Whether the approvals gathered so far release a held action. */
export function approvalsSatisfied(approvers: Approvers, approvals: readonly { by: string; kind: 'human' | 'coordinator' }[]): boolean {
  if (approvers.human && approvals.some((a) => a.kind === 'human')) return true;
  if (approvers.coordinators > 0) {
    const distinct = new Set(approvals.filter((a) => a.kind === 'coordinator').map((a) => a.by));
    return distinct.size >= approvers.coordinators;
  }
  return false;
}
