// The plain data discovery keeps for one Agent, derived from the Agent resource.
import type { Agent } from '../../crds/types.js';

export interface SkillEntry {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly tags: readonly string[];
  readonly examples: readonly string[];
  readonly inputModes: readonly string[];
  readonly outputModes: readonly string[];
}

export interface AgentEntry {
  /** `namespace/name`. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly mesh: string;
  readonly displayName: string;
  readonly description: string;
  readonly version: string;
  readonly url: string;
  readonly provider: { readonly organization: string; readonly url: string } | undefined;
  readonly skills: readonly SkillEntry[];
  readonly capabilities: readonly string[];
  readonly specializations: readonly string[];
  readonly certifications: readonly string[];
  readonly region: string;
  /** The SLA's committed latency; undefined when the Agent commits to none. */
  readonly maxLatencyMs: number | undefined;
  /** undefined until the trust module scored the Agent. */
  readonly trustScore: number | undefined;
  readonly phase: string;
  readonly ready: boolean;
  readonly quarantined: boolean;
  readonly resourceVersion: string;
}

/** Reads what discovery needs from an Agent; tolerant of missing optional fields. */
export function entryFromAgent(agent: Agent): AgentEntry {
  const namespace = agent.metadata.namespace ?? '';
  const name = agent.metadata.name ?? '';
  const spec = agent.spec;
  const status = agent.status;
  const phase = status?.phase ?? 'Pending';
  const readyCondition = status?.conditions?.find((c) => c.type === 'Ready');
  const quarantinedCondition = status?.conditions?.find((c) => c.type === 'Quarantined');
  return {
    key: `${namespace}/${name}`,
    namespace,
    name,
    mesh: spec.meshRef,
    displayName: spec.displayName ?? name,
    description: spec.description,
    version: spec.version ?? '',
    url: spec.url ?? '',
    provider: spec.provider ? { organization: spec.provider.organization, url: spec.provider.url ?? '' } : undefined,
    skills: (spec.skills ?? []).map((skill) => ({
      id: skill.id,
      name: skill.name ?? skill.id,
      description: skill.description ?? '',
      tags: skill.tags ?? [],
      examples: skill.examples ?? [],
      inputModes: skill.inputModes ?? [],
      outputModes: skill.outputModes ?? [],
    })),
    capabilities: spec.capabilities ?? [],
    specializations: spec.specializations ?? [],
    certifications: spec.certifications ?? [],
    region: spec.region ?? '',
    maxLatencyMs: spec.sla?.maxLatencyMs,
    trustScore: status?.trust?.score,
    phase,
    // Ready by phase, or by the Ready condition when the phase is not written yet.
    ready: phase === 'Ready' || (status?.phase === undefined && readyCondition?.status === 'True'),
    quarantined: phase === 'Quarantined' || quarantinedCondition?.status === 'True',
    resourceVersion: agent.metadata.resourceVersion ?? '',
  };
}

/** Every text discovery matches against: name, description, skills, capabilities, specializations. */
export function searchableText(entry: AgentEntry): string {
  const parts = [entry.displayName, entry.name.replace(/-/g, ' '), entry.description, ...entry.capabilities, ...entry.specializations.map((s) => s.replace(/-/g, ' '))];
  for (const skill of entry.skills) parts.push(skill.name, skill.description, ...skill.tags, ...skill.examples);
  return parts.join(' \n ');
}

/** Words of the description kept in the summary: its opening says what the agent is. */
const SUMMARY_DESCRIPTION_WORDS = 40;

/**
 * The short text the semantic ranker embeds: names, the opening of the description, skill
 * names and tags, specializations. Long details dilute a mean word vector (measured on
 * MetaTool: embedding the whole text scored lower than the opening).
 */
export function summaryText(entry: AgentEntry): string {
  const opening = entry.description.split(/\s+/).slice(0, SUMMARY_DESCRIPTION_WORDS).join(' ');
  const parts = [entry.displayName, opening, ...entry.specializations.map((s) => s.replace(/-/g, ' '))];
  for (const skill of entry.skills) parts.push(skill.name, ...skill.tags);
  return parts.join(' ');
}
