// The speed benchmark's catalogue: the MetaTool tools repeated and varied into N agents with
// generated trust, certifications, regions, latencies, meshes and namespaces (seeded, so
// every run builds the same catalogue).
import type { AgentEntry } from '../../discovery/index/entry.js';
import { toolEntry, type MetaToolTool } from '../../discovery/quality/metatool.js';
import { seededRandom } from '../../operator/util/random.js';

export const CERTIFICATIONS = ['ISO14001', 'ISO27001', 'SOC2', 'HIPAA', 'GDPR', 'PCI-DSS'];
export const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2', 'ap-south-1', 'ap-northeast-1'];

export function generatedEntries(tools: readonly MetaToolTool[], count: number, seed = 7): AgentEntry[] {
  const random = seededRandom(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const entries: AgentEntry[] = [];
  for (let i = 0; i < count; i++) {
    const tool = tools[i % tools.length] as MetaToolTool;
    const namespace = `team-${i % 20}`;
    const base = toolEntry(tool, namespace);
    // Vary the text a little: keep a random share of the detail's sentences.
    const sentences = tool.detail.split(/(?<=\.)\s+/);
    const kept = sentences.filter(() => random() < 0.7).join(' ');
    const name = `${base.name.slice(0, 50)}-${i}`;
    entries.push({
      ...base,
      key: `${namespace}/${name}`,
      name,
      mesh: `mesh-${i % 4}`,
      description: `${tool.description} ${kept}`.trim(),
      certifications: CERTIFICATIONS.filter(() => random() < 0.35),
      region: pick(REGIONS),
      maxLatencyMs: 50 + Math.floor(random() * 1950),
      trustScore: Math.round(40 + random() * 60),
      capabilities: random() < 0.5 ? ['streaming'] : [],
      resourceVersion: String(i + 1),
    });
  }
  return entries;
}
