// `mesh policy simulate`: which of a list of actions the policy gate would allow, block or hold,
// and why. The actions are evaluated in order, as the loop would meet them, so the autonomy caps
// and the rate limit count the ones allowed before.
import { parseAllDocuments } from 'yaml';
import type { ActionTarget, ProposedAction } from './contract.js';
import { PolicyLedger, agentsOf, evaluatePolicy, type MeshPolicy, type PolicyDecision } from './policy.js';

export interface SimulatedDecision {
  index: number;
  action: ProposedAction;
  decision: PolicyDecision;
}

export class ActionFileError extends Error {
  override readonly name = 'ActionFileError';
}

const TARGET_KINDS: readonly ActionTarget['kind'][] = ['Mesh', 'Agent', 'Node', 'Pod', 'Proposal'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function requireString(object: Record<string, unknown>, field: string, path: string): string {
  const value = object[field];
  if (typeof value !== 'string' || value === '') throw new ActionFileError(`${path}.${field}: required, a non-empty string`);
  return value;
}

function optionalNumber(object: Record<string, unknown>, field: string, path: string, min: number, max: number): number | undefined {
  const value = object[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new ActionFileError(`${path}.${field}: must be a number within ${min}..${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Validates one action from the file; errors name the field and the rule. */
export function parseAction(raw: unknown, path: string): ProposedAction {
  if (!isRecord(raw)) throw new ActionFileError(`${path}: must be a mapping with module, kind, target and risk`);
  const targetRaw = raw['target'];
  if (!isRecord(targetRaw)) throw new ActionFileError(`${path}.target: required, a mapping with kind, name and mesh`);
  const kind = requireString(targetRaw, 'kind', `${path}.target`);
  if (!TARGET_KINDS.includes(kind as ActionTarget['kind'])) {
    throw new ActionFileError(`${path}.target.kind: must be one of ${TARGET_KINDS.join(', ')}, got "${kind}"`);
  }
  const target: ActionTarget = {
    kind: kind as ActionTarget['kind'],
    name: requireString(targetRaw, 'name', `${path}.target`),
    mesh: requireString(targetRaw, 'mesh', `${path}.target`),
  };
  if (targetRaw['namespace'] !== undefined) target.namespace = requireString(targetRaw, 'namespace', `${path}.target`);
  const risk = optionalNumber(raw, 'risk', path, 0, 1);
  if (risk === undefined) throw new ActionFileError(`${path}.risk: required, a number within 0..1`);
  if (raw['remediation'] !== undefined && typeof raw['remediation'] !== 'boolean') throw new ActionFileError(`${path}.remediation: must be true or false`);
  const action: ProposedAction = {
    module: requireString(raw, 'module', path),
    kind: requireString(raw, 'kind', path),
    target,
    reason: typeof raw['reason'] === 'string' ? raw['reason'] : '',
    risk,
    verifyWindowMs: 0,
    params: isRecord(raw['params']) ? raw['params'] : {},
  };
  if (raw['remediation'] === true) action.remediation = true;
  const agentsTouched = optionalNumber(raw, 'agentsTouched', path, 0, 1e6);
  if (agentsTouched !== undefined) action.agentsTouched = agentsTouched;
  const replicasAdded = optionalNumber(raw, 'replicasAdded', path, 0, 1e6);
  if (replicasAdded !== undefined) action.replicasAdded = replicasAdded;
  return action;
}

/** Reads actions from YAML: one list (`- module: ...`), a mapping with `actions:`, or several documents. */
export function parseActionFile(text: string): ProposedAction[] {
  const documents = parseAllDocuments(text);
  const items: unknown[] = [];
  for (const document of documents) {
    if (document.errors.length > 0) throw new ActionFileError(`YAML: ${document.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = document.toJS();
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) items.push(...(value as unknown[]));
    else if (isRecord(value) && Array.isArray(value['actions'])) items.push(...(value['actions'] as unknown[]));
    else items.push(value);
  }
  if (items.length === 0) throw new ActionFileError('actions: the file holds no actions');
  return items.map((item, index) => parseAction(item, `actions[${index}]`));
}

/** The policy gate over a sequence of actions, counting each allowed one against the caps. */
export function simulatePolicy(
  actions: readonly ProposedAction[],
  meshes: ReadonlyMap<string, { policy: MeshPolicy | undefined; agentCount: number }>,
  now: Date,
): SimulatedDecision[] {
  const ledgers = new Map<string, PolicyLedger>();
  return actions.map((action, index) => {
    const mesh = meshes.get(action.target.mesh);
    if (!mesh) {
      return { index, action, decision: { outcome: 'blocked', rule: 'mesh', reason: `mesh ${action.target.mesh} not found` } };
    }
    const ledger = ledgers.get(action.target.mesh) ?? new PolicyLedger();
    ledgers.set(action.target.mesh, ledger);
    const decision = evaluatePolicy({ action, policy: mesh.policy, meshAgentCount: mesh.agentCount, ledger, now });
    if (decision.outcome === 'allowed') ledger.add({ at: now.getTime(), agents: agentsOf(action), replicasAdded: action.replicasAdded ?? 0 });
    return { index, action, decision };
  });
}
