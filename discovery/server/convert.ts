// Index entries to API messages, and to A2A AgentCards.
import type { AgentEntry } from '../index/entry.js';

export { agentMessage } from '../index/agent-message.js';

/** One line saying why the agent matched. */
export function explain(hit: { readonly matchedTerms: readonly string[]; readonly semantic: number; readonly trustScore: number | undefined }): string {
  const parts: string[] = [];
  if (hit.matchedTerms.length > 0) parts.push(`matched ${hit.matchedTerms.map((term) => `"${term}"`).join(', ')}`);
  if (hit.semantic !== 0) parts.push(`semantic similarity ${hit.semantic.toFixed(2)}`);
  if (parts.length === 0) parts.push('passed the filters');
  if (hit.trustScore !== undefined) parts.push(`trust ${Math.round(hit.trustScore)}`);
  return parts.join('; ');
}

/** Protocol capabilities the A2A AgentCard names; anything else goes to `extensions`. */
const A2A_CAPABILITIES = new Map([
  ['streaming', 'streaming'],
  ['push-notifications', 'pushNotifications'],
  ['pushnotifications', 'pushNotifications'],
  ['state-transition-history', 'stateTransitionHistory'],
]);

/** The A2A AgentCard of the agent (https://a2a-protocol.org, AgentCard object). */
export function agentCard(entry: AgentEntry): Record<string, unknown> {
  const capabilities: Record<string, unknown> = { streaming: false, pushNotifications: false, stateTransitionHistory: false };
  const extensions: { uri: string }[] = [];
  for (const capability of entry.capabilities) {
    const known = A2A_CAPABILITIES.get(capability.toLowerCase());
    if (known) capabilities[known] = true;
    else extensions.push({ uri: `urn:meshos:capability:${capability}` });
  }
  if (extensions.length > 0) capabilities['extensions'] = extensions;
  const modes = (pick: (skill: AgentEntry['skills'][number]) => readonly string[]): string[] => {
    const all = [...new Set(entry.skills.flatMap(pick))];
    return all.length > 0 ? all : ['text/plain'];
  };
  return {
    name: entry.displayName,
    description: entry.description,
    url: entry.url,
    version: entry.version === '' ? '0.0.0' : entry.version,
    ...(entry.provider ? { provider: { organization: entry.provider.organization, url: entry.provider.url } } : {}),
    capabilities,
    defaultInputModes: modes((skill) => skill.inputModes),
    defaultOutputModes: modes((skill) => skill.outputModes),
    skills: entry.skills.map((skill) => ({
      id: skill.id,
      name: skill.name,
      description: skill.description,
      tags: [...skill.tags],
      ...(skill.examples.length > 0 ? { examples: [...skill.examples] } : {}),
      ...(skill.inputModes.length > 0 ? { inputModes: [...skill.inputModes] } : {}),
      ...(skill.outputModes.length > 0 ? { outputModes: [...skill.outputModes] } : {}),
    })),
  };
}
