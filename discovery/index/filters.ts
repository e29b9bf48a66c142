// Search filters and the inverted sets that narrow candidates without scanning every agent.
import type { AgentEntry } from './entry.js';

export interface Filters {
  /** Trust score at least this (0-100); agents not yet scored never pass a positive minimum. */
  readonly minTrustScore?: number;
  /** Every one of these certifications is required. */
  readonly certifications?: readonly string[];
  /** Every one of these capabilities is required. */
  readonly capabilities?: readonly string[];
  /** At least one skill carries at least one of these tags. */
  readonly skillTags?: readonly string[];
  /** The agent's region is one of these. */
  readonly regions?: readonly string[];
  /** The agent's SLA latency is at most this many milliseconds (agents without an SLA latency never pass). */
  readonly maxLatencyMs?: number;
  /** The agent joined one of these meshes. */
  readonly meshes?: readonly string[];
  /** The agent lives in one of these namespaces. */
  readonly namespaces?: readonly string[];
}

export type SetField = 'certifications' | 'capabilities' | 'skillTags' | 'regions' | 'meshes' | 'namespaces';
export const SET_FIELDS: readonly SetField[] = ['certifications', 'capabilities', 'skillTags', 'regions', 'meshes', 'namespaces'];
/** Fields where every listed value is required; the others need any one of them. */
export const ALL_REQUIRED: ReadonlySet<SetField> = new Set(['certifications', 'capabilities']);

/** Values of the entry for each set field, normalised the way filters are compared. */
export function setValues(entry: AgentEntry): Record<SetField, string[]> {
  return {
    certifications: entry.certifications.map(normaliseValue),
    capabilities: entry.capabilities.map(normaliseValue),
    skillTags: [...new Set(entry.skills.flatMap((skill) => skill.tags.map(normaliseValue)))],
    regions: entry.region === '' ? [] : [normaliseValue(entry.region)],
    meshes: [entry.mesh],
    namespaces: [entry.namespace],
  };
}

/** Certifications and tags compare case-insensitively and ignore `-`/`_`/spaces: ISO14001 matches ISO-14001. */
export function normaliseValue(value: string): string {
  return value.toLowerCase().replace(/[\s_-]+/g, '');
}

export function hasFilters(filters: Filters): boolean {
  return (
    filters.minTrustScore !== undefined ||
    filters.maxLatencyMs !== undefined ||
    SET_FIELDS.some((field) => (filters[field]?.length ?? 0) > 0)
  );
}

/** Inverted sets: field -> value -> slots holding it. */
export class FilterSets {
  private readonly sets = new Map<SetField, Map<string, Set<number>>>(SET_FIELDS.map((field) => [field, new Map()]));

  add(slot: number, values: Record<SetField, string[]>): void {
    for (const field of SET_FIELDS) {
      const byValue = this.sets.get(field);
      if (!byValue) continue;
      for (const value of values[field]) {
        let slots = byValue.get(value);
        if (!slots) {
          slots = new Set();
          byValue.set(value, slots);
        }
        slots.add(slot);
      }
    }
  }

  remove(slot: number, values: Record<SetField, string[]>): void {
    for (const field of SET_FIELDS) {
      const byValue = this.sets.get(field);
      for (const value of values[field]) {
        const slots = byValue?.get(value);
        slots?.delete(slot);
        if (slots?.size === 0) byValue?.delete(value);
      }
    }
  }

  /**
   * The slots passing every set filter (in no particular order), or undefined when no set
   * filter is given (all pass).
   * Intersects starting from the smallest set so the work follows the most selective filter.
   */
  candidates(filters: Filters, allowedNamespaces?: ReadonlySet<string>): number[] | undefined {
    const groups: (readonly ReadonlySet<number>[])[] = [];
    const empty: ReadonlySet<number> = new Set();
    for (const field of SET_FIELDS) {
      let values = (filters[field] ?? []).map((value) => (field === 'meshes' || field === 'namespaces' ? value : normaliseValue(value)));
      if (field === 'namespaces' && allowedNamespaces) {
        values = values.length === 0 ? [...allowedNamespaces] : values.filter((ns) => allowedNamespaces.has(ns));
        if (values.length === 0) return [];
      }
      if (values.length === 0) continue;
      const byValue = this.sets.get(field);
      const sets = values.map((value) => byValue?.get(value) ?? empty);
      if (ALL_REQUIRED.has(field)) for (const set of sets) groups.push([set]);
      else groups.push(sets);
    }
    if (groups.length === 0) return undefined;
    // Each group is a union; the result is the intersection of the groups.
    const sized = groups.map((sets) => ({ sets, size: sets.reduce((sum, set) => sum + set.size, 0) })).sort((a, b) => a.size - b.size);
    const [first, ...rest] = sized;
    if (!first) return undefined;
    const seed = new Set<number>();
    for (const set of first.sets) for (const slot of set) seed.add(slot);
    const result: number[] = [];
    for (const slot of seed) {
      if (rest.every((group) => group.sets.some((set) => set.has(slot)))) result.push(slot);
    }
    return result;
  }
}

/** Whether one entry passes the filters and the availability rule (for watch streams). */
export function entryMatches(entry: AgentEntry, filters: Filters, includeUnavailable: boolean): boolean {
  if (!includeUnavailable && (!entry.ready || entry.quarantined)) return false;
  if (filters.minTrustScore !== undefined && filters.minTrustScore > 0 && (entry.trustScore === undefined || entry.trustScore < filters.minTrustScore)) return false;
  if (filters.maxLatencyMs !== undefined && (entry.maxLatencyMs === undefined || entry.maxLatencyMs > filters.maxLatencyMs)) return false;
  const values = setValues(entry);
  for (const field of SET_FIELDS) {
    const wanted = (filters[field] ?? []).map((value) => (field === 'meshes' || field === 'namespaces' ? value : normaliseValue(value)));
    if (wanted.length === 0) continue;
    const held = new Set(values[field]);
    if (ALL_REQUIRED.has(field) ? !wanted.every((value) => held.has(value)) : !wanted.some((value) => held.has(value))) return false;
  }
  return true;
}
