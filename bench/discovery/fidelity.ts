// What the speed shortcuts cost in ranking, at the largest benchmark size: the served
// configuration (HNSW over 8-bit vectors, a semantic list one longer than the page) against
// an exhaustive one (every candidate's vector compared exactly, 50 semantic candidates), on
// the speed benchmark's own filtered requests. Reported as the share of the exhaustive top 10
// that the served search also returns, for the hybrid ranking and for the semantic ranker alone.
import { Catalogue, type Ranker } from '../../discovery/index/catalogue.js';
import type { LabelledQuery, MetaToolTool } from '../../discovery/quality/metatool.js';
import type { WordVectors } from '../../discovery/rank/word-vectors.js';
import { CERTIFICATIONS, generatedEntries } from './catalogue.js';

export interface Fidelity {
  readonly agents: number;
  readonly queries: number;
  /** Share of the exhaustive hybrid top 10 that the served hybrid search returns. */
  readonly hybridTop10Agreement: number;
  /** The same for the semantic ranker alone (where the approximate index shows most). */
  readonly semanticTop10Agreement: number;
  readonly usesAnn: boolean;
}

export function measureFidelity(tools: readonly MetaToolTool[], queries: readonly LabelledQuery[], wordVectors: WordVectors, agents: number): Fidelity {
  const entries = generatedEntries(tools, agents);
  const served = new Catalogue({ wordVectors });
  const exhaustive = new Catalogue({ wordVectors, annThreshold: Number.POSITIVE_INFINITY, semanticCandidates: 50 });
  for (const entry of entries) {
    served.upsert(entry);
    exhaustive.upsert(entry);
  }
  served.prepare();
  const agreement = (ranker: Ranker): number => {
    let found = 0;
    let wanted = 0;
    queries.forEach(({ query }, i) => {
      const request = { text: query, filters: { minTrustScore: 60, certifications: [CERTIFICATIONS[i % 3] ?? 'ISO27001'], maxLatencyMs: 1500 }, offset: 0, limit: 10, ranker };
      const reference = new Set(exhaustive.search(request).hits.map((hit) => hit.entry.key));
      wanted += reference.size;
      found += served.search(request).hits.filter((hit) => reference.has(hit.entry.key)).length;
    });
    return Math.round((found / Math.max(wanted, 1)) * 10_000) / 10_000;
  };
  return { agents, queries: queries.length, hybridTop10Agreement: agreement('hybrid'), semanticTop10Agreement: agreement('semantic'), usesAnn: served.usesAnn };
}
