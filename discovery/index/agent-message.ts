// An index entry as the API's Agent message and back, and as that message's protobuf bytes:
// the compact form the gRPC thread keeps its agents in (see `CatalogueOptions.packEntries`).
import { Agent as AgentMessage } from '../generated/meshos/discovery/v1/discovery.js';
import type { AgentEntry } from './entry.js';

export function agentMessage(entry: AgentEntry): AgentMessage {
  return {
    namespace: entry.namespace,
    name: entry.name,
    mesh: entry.mesh,
    displayName: entry.displayName,
    description: entry.description,
    version: entry.version,
    url: entry.url,
    provider: entry.provider ? { organization: entry.provider.organization, url: entry.provider.url } : undefined,
    skills: entry.skills.map((skill) => ({ ...skill, tags: [...skill.tags], examples: [...skill.examples], inputModes: [...skill.inputModes], outputModes: [...skill.outputModes] })),
    capabilities: [...entry.capabilities],
    specializations: [...entry.specializations],
    certifications: [...entry.certifications],
    region: entry.region,
    maxLatencyMs: entry.maxLatencyMs,
    trustScore: entry.trustScore,
    phase: entry.phase,
    ready: entry.ready,
    quarantined: entry.quarantined,
    resourceVersion: entry.resourceVersion,
  };
}

/** The inverse of `agentMessage`. */
export function entryFromMessage(message: AgentMessage): AgentEntry {
  return {
    key: `${message.namespace}/${message.name}`,
    namespace: message.namespace,
    name: message.name,
    mesh: message.mesh,
    displayName: message.displayName,
    description: message.description,
    version: message.version,
    url: message.url,
    provider: message.provider ? { organization: message.provider.organization, url: message.provider.url } : undefined,
    skills: message.skills,
    capabilities: message.capabilities,
    specializations: message.specializations,
    certifications: message.certifications,
    region: message.region,
    maxLatencyMs: message.maxLatencyMs,
    trustScore: message.trustScore,
    phase: message.phase,
    ready: message.ready,
    quarantined: message.quarantined,
    resourceVersion: message.resourceVersion,
  };
}

/**
 * The entry's Agent message, encoded. In a Node Buffer: under 4 kB it is cut from Node's
 * shared pool, so 100,000 agents are a few thousand array buffers, not 100,000.
 */
export function encodeAgent(entry: AgentEntry): Uint8Array {
  return Buffer.from(AgentMessage.encode(agentMessage(entry)).finish());
}

export function decodeAgent(bytes: Uint8Array): AgentEntry {
  return entryFromMessage(AgentMessage.decode(bytes));
}
