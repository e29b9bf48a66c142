// The speed benchmark's catalogue: N agents composed from the MetaTool tools, with generated
// trust, certifications, regions, latencies, meshes and namespaces (seeded, so every run
// builds the same catalogue).
//
// Each agent is one tool (its description, a random share of its detail) plus one to three
// skills taken from other tools, each tagged with a few words of that tool's description.
// The skills enter the text the semantic ranker embeds, so agents differ in meaning and
// nearly every one has a sentence vector of its own: a catalogue of repeated tools would
// collapse into a few hundred distinct vectors and never exercise the ANN index.
import type { AgentEntry, SkillEntry } from '../../discovery/index/entry.js';
import { toolEntry, type MetaToolTool } from '../../discovery/quality/metatool.js';
import { STOP_WORDS, words } from '../../discovery/rank/tokenize.js';
import { seededRandom } from '../../operator/util/random.js';

export const CERTIFICATIONS = ['ISO14001', 'ISO27001', 'SOC2', 'HIPAA', 'GDPR', 'PCI-DSS'];
export const REGIONS = ['eu-west-1', 'eu-central-1', 'us-east-1', 'us-west-2', 'ap-south-1', 'ap-northeast-1'];

/** Tags a skill may carry: the content words of its tool's description. */
function tagWords(tool: MetaToolTool): string[] {
  return [...new Set(words(tool.description).filter((word) => word.length > 3 && !STOP_WORDS.has(word) && !/^[0-9]+$/.test(word)))];
}

/** A skill's description: the opening of its tool's description (a skill is a line, not a page). */
function shortDescription(tool: MetaToolTool): string {
  const first = tool.description.split(/(?<=[.!?])\s+/)[0] ?? '';
  const words = first.split(/\s+/);
  return words.length > 16 ? `${words.slice(0, 16).join(' ')}…` : first;
}

export function generatedEntries(tools: readonly MetaToolTool[], count: number, seed = 7): AgentEntry[] {
  const random = seededRandom(seed);
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)] as T;
  const tags = tools.map(tagWords);
  const skillOf = (index: number): SkillEntry => {
    const tool = tools[index] as MetaToolTool;
    const words = tags[index] as string[];
    const chosen = words.filter(() => random() < 3 / Math.max(words.length, 3));
    return { id: tool.id, name: tool.name, description: shortDescription(tool), tags: chosen.length > 0 ? chosen : [pick(words.length > 0 ? words : [tool.name])], examples: [], inputModes: [], outputModes: [] };
  };
  const entries: AgentEntry[] = [];
  for (let i = 0; i < count; i++) {
    const toolIndex = i % tools.length;
    const tool = tools[toolIndex] as MetaToolTool;
    const namespace = `team-${i % 20}`;
    const base = toolEntry(tool, namespace);
    const sentences = tool.detail.split(/(?<=\.)\s+/);
    const kept = sentences.filter(() => random() < 0.7).join(' ');
    const skillCount = 1 + Math.floor(random() * 3);
    const skills: SkillEntry[] = [];
    while (skills.length < skillCount) {
      const other = Math.floor(random() * tools.length);
      if (other !== toolIndex && !skills.some((skill) => skill.id === (tools[other] as MetaToolTool).id)) skills.push(skillOf(other));
    }
    const name = `${base.name.slice(0, 50)}-${i}`;
    entries.push({
      ...base,
      key: `${namespace}/${name}`,
      name,
      mesh: `mesh-${i % 4}`,
      description: `${tool.description} ${kept}`.trim(),
      skills,
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
