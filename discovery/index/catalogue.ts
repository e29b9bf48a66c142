// The live discovery index: agents by slot, a BM25 index over their text, their sentence
// vectors, inverted filter sets, and the hybrid search that combines them.
import { Bm25Index, hasSlot, slotBitmap, type SlotBitmap } from '../rank/bm25.js';
import type { Scored } from '../rank/topk.js';
import { embedText, embedWords } from '../rank/embed.js';
import { STOP_WORDS, terms, termsOf, words } from '../rank/tokenize.js';
import type { WordVectors } from '../rank/word-vectors.js';
import { decodeAgent, encodeAgent } from './agent-message.js';
import { searchableText, summaryText, type AgentEntry } from './entry.js';
import { FilterSets, setValues, type Filters } from './filters.js';
import { VectorStore } from './vectors.js';

/** Rankers the catalogue can run; `hybrid` is the default (chosen by the quality benchmark). */
export const RANKERS = ['hybrid', 'lexical', 'semantic'] as const;
export type Ranker = (typeof RANKERS)[number];

/**
 * Weight of the semantic similarity against the lexical score (normalised to the best
 * match = 1). Chosen on the tuning half of the MetaTool queries (bench/discovery.ts).
 */
export const DEFAULT_SEMANTIC_WEIGHT = 2;

export interface CatalogueOptions {
  /** Word vectors for the semantic ranker; without them only the lexical ranker runs. */
  readonly wordVectors?: WordVectors;
  readonly semanticWeight?: number;
  /** Catalogue size from which the vector search is approximate (HNSW); exact below. */
  readonly annThreshold?: number;
  /**
   * Without the text indexes (BM25 and vectors) the catalogue only stores, filters and lists:
   * what the gRPC thread keeps when a search thread (`SearchThread`) ranks. Default true.
   */
  readonly textIndex?: boolean;
  /**
   * Candidates the semantic ranker contributes at least (default: one more than the page).
   * The benchmark's exhaustive reference asks for more.
   */
  readonly semanticCandidates?: number;
  /**
   * Keep each entry's text (description, display name, skill names, descriptions and examples)
   * after indexing it (default true). A search thread's catalogue does not: the gRPC thread
   * answers with its own encoded agents, and the text is most of an entry's memory.
   */
  readonly storeText?: boolean;
  /**
   * Hold each entry as its API message's protobuf bytes beside the few fields filters read
   * (default false), decoded when read; a search response takes the bytes as they are. A
   * catalogue of 100,000 agents as objects is millions of small heap objects, and every
   * major garbage collection of the thread that holds them marks them all: on the gRPC
   * thread that stalled searches for a fifth of a second every few seconds.
   */
  readonly packEntries?: boolean;
}

/** An entry as `packEntries` holds it: what filters read, and the whole entry encoded. */
interface PackedEntry {
  readonly key: string;
  readonly resourceVersion: string;
  readonly ready: boolean;
  readonly quarantined: boolean;
  readonly trustScore: number | undefined;
  readonly maxLatencyMs: number | undefined;
  readonly encoded: Uint8Array;
}

type StoredEntry = AgentEntry | PackedEntry;

function isPacked(entry: StoredEntry): entry is PackedEntry {
  return 'encoded' in entry;
}

function unpack(entry: StoredEntry): AgentEntry {
  return isPacked(entry) ? decodeAgent(entry.encoded) : entry;
}

function pack(entry: AgentEntry): PackedEntry {
  return { key: entry.key, resourceVersion: entry.resourceVersion, ready: entry.ready, quarantined: entry.quarantined, trustScore: entry.trustScore, maxLatencyMs: entry.maxLatencyMs, encoded: encodeAgent(entry) };
}

export interface SearchQuery {
  readonly text: string;
  readonly filters: Filters;
  /** Include agents that are not Ready or are quarantined. */
  readonly includeUnavailable?: boolean;
  /** Namespaces the caller may see; all when undefined. */
  readonly allowedNamespaces?: ReadonlySet<string>;
  readonly offset: number;
  readonly limit: number;
  readonly ranker?: Ranker;
}

export interface SearchHit {
  readonly entry: AgentEntry;
  readonly score: number;
  /** BM25 score relative to the best lexical match of the query (0-1). */
  readonly lexical: number;
  /** Cosine similarity of the query and the agent's summary (-1..1). */
  readonly semantic: number;
  /** Query words found (after stemming) in the agent's text. */
  readonly matchedTerms: readonly string[];
}

/** A ranked hit by key, with what a response needs besides the agent itself. */
export interface RankedHit {
  readonly key: string;
  readonly score: number;
  readonly lexical: number;
  readonly semantic: number;
  readonly matchedTerms: readonly string[];
  readonly trustScore: number | undefined;
}

/** A page of ranked hits by key (what a search thread answers). */
export interface RankedPage {
  readonly hits: readonly RankedHit[];
  readonly more: boolean;
}

export function rankedPage(result: SearchResult): RankedPage {
  return {
    hits: result.hits.map((hit) => ({ key: hit.entry.key, score: hit.score, lexical: hit.lexical, semantic: hit.semantic, matchedTerms: hit.matchedTerms, trustScore: hit.entry.trustScore })),
    more: result.more,
  };
}

export interface SearchResult {
  readonly hits: readonly SearchHit[];
  /** Whether more hits exist after this page. */
  readonly more: boolean;
}

/**
 * Candidates the lexical ranker contributes at least, so fusion sees beyond the page: a
 * strong semantic match far down the lexical list can still win. The semantic ranker
 * contributes one more than the page: its similarity is the larger part of the fused score,
 * so its own top decides: at 100,000 agents a deeper semantic list changed 0.1 % of the top
 * 10 while it cost a third of the search (bench/discovery.ts, `fidelity`).
 */
const CANDIDATE_FLOOR = 50;
/** Filtered candidate sets up to this size are scanned exactly even when an ANN index exists. */
const EXACT_SCAN_LIMIT = 2_000;
/**
 * Walk the distinct vectors when they are at most this many per candidate (measured at 1,000
 * and 10,000 agents: the native walk has a fixed cost per call that a scan of fewer
 * candidates than distinct vectors does not).
 */
const GROUP_WALK_RATIO = 1;

/** The entry without the text only ranking reads (what filters and listing read stays). */
function withoutText(entry: AgentEntry): AgentEntry {
  return {
    ...entry,
    displayName: '',
    description: '',
    skills: entry.skills.map((skill) => ({ id: skill.id, name: '', description: '', tags: skill.tags, examples: [], inputModes: [], outputModes: [] })),
    specializations: [],
  };
}

export class Catalogue {
  private readonly entries: (StoredEntry | undefined)[] = [];
  private readonly slotByKey = new Map<string, number>();
  private readonly freeSlots: number[] = [];
  private readonly lexical = new Bm25Index();
  private readonly vectors: VectorStore;
  private readonly filterSets = new FilterSets();
  private readonly wordVectors: WordVectors | undefined;
  private readonly semanticWeight: number;
  private readonly textIndex: boolean;
  private readonly semanticCandidates: number;
  private readonly storeText: boolean;
  private readonly packEntries: boolean;
  /** Bumped on every change, so cached candidate sets of an older index are never used. */
  private version = 0;
  /** Candidate sets of recent filter combinations (filters repeat far more than queries do). */
  private readonly candidateCache = new Map<string, { version: number; slots: number[]; bitmap: SlotBitmap }>();

  constructor(options: CatalogueOptions = {}) {
    this.wordVectors = options.wordVectors;
    this.semanticWeight = options.semanticWeight ?? DEFAULT_SEMANTIC_WEIGHT;
    this.textIndex = options.textIndex ?? true;
    this.semanticCandidates = options.semanticCandidates ?? 0;
    this.storeText = options.storeText ?? true;
    this.packEntries = options.packEntries ?? false;
    this.vectors = new VectorStore(options.annThreshold === undefined ? {} : { annThreshold: options.annThreshold });
  }

  get size(): number {
    return this.slotByKey.size;
  }

  /** Distinct semantic vectors held (agents with identical summaries share one). */
  get distinctVectors(): number {
    return this.vectors.distinct;
  }

  /** Whether this catalogue can search (see `CatalogueOptions.textIndex`). */
  get hasTextIndex(): boolean {
    return this.textIndex;
  }

  get usesAnn(): boolean {
    return this.vectors.usesAnn;
  }

  /** Builds what the first search would otherwise build (the ANN index after a bulk load). */
  prepare(): void {
    this.vectors.prepare();
  }

  get(key: string): AgentEntry | undefined {
    const slot = this.slotByKey.get(key);
    const entry = slot === undefined ? undefined : this.entries[slot];
    return entry && unpack(entry);
  }

  /** The entry's API message, encoded (as held when packed; encoded now otherwise). */
  encodedAgent(key: string): Uint8Array | undefined {
    const slot = this.slotByKey.get(key);
    const entry = slot === undefined ? undefined : this.entries[slot];
    if (!entry) return undefined;
    return isPacked(entry) ? entry.encoded : encodeAgent(entry);
  }

  /** The keys of every entry, in no particular order. */
  keys(): string[] {
    return [...this.slotByKey.keys()];
  }

  /** Every entry, ordered by key (for listing). */
  list(): AgentEntry[] {
    return [...this.slotByKey.keys()].sort().map((key) => this.get(key)).filter((entry): entry is AgentEntry => entry !== undefined);
  }

  /** The stored entry's resourceVersion, without unpacking it. */
  resourceVersion(key: string): string | undefined {
    const slot = this.slotByKey.get(key);
    return slot === undefined ? undefined : this.entries[slot]?.resourceVersion;
  }

  /** Stores the entry; returns the one it replaced (unpacked once, for the caller too). */
  upsert(entry: AgentEntry): AgentEntry | undefined {
    this.version++;
    let slot = this.slotByKey.get(entry.key);
    let previous: AgentEntry | undefined;
    if (slot === undefined) {
      slot = this.freeSlots.pop() ?? this.entries.length;
      this.slotByKey.set(entry.key, slot);
    } else {
      // The previous entry's values, recomputed: cheaper than keeping them per slot.
      const stored = this.entries[slot];
      previous = stored && unpack(stored);
      if (previous) this.filterSets.remove(slot, setValues(previous));
    }
    const kept = this.storeText ? entry : withoutText(entry);
    this.entries[slot] = this.packEntries ? pack(kept) : kept;
    this.filterSets.add(slot, setValues(entry));
    if (this.textIndex) {
      this.lexical.set(slot, terms(searchableText(entry)));
      this.vectors.set(slot, this.wordVectors ? embedText(this.wordVectors, summaryText(entry)) : undefined);
    }
    return previous;
  }

  remove(key: string): boolean {
    const slot = this.slotByKey.get(key);
    if (slot === undefined) return false;
    this.version++;
    const previous = this.entries[slot];
    if (previous) this.filterSets.remove(slot, setValues(unpack(previous)));
    this.lexical.remove(slot);
    this.vectors.remove(slot);
    this.entries[slot] = undefined;
    this.slotByKey.delete(key);
    this.freeSlots.push(slot);
    return true;
  }

  /** Entries passing the filters and visibility rules, in key order (no ranking). */
  filter(filters: Filters, options: { includeUnavailable?: boolean; allowedNamespaces?: ReadonlySet<string> } = {}): AgentEntry[] {
    return this.filterPage(filters, options, 0, Number.POSITIVE_INFINITY).entries;
  }

  /** One page of `filter`'s result and its full length; only the page's entries are unpacked. */
  filterPage(filters: Filters, options: { includeUnavailable?: boolean; allowedNamespaces?: ReadonlySet<string> }, offset: number, limit: number): { entries: AgentEntry[]; total: number } {
    const { slots, accept } = this.candidates(filters, options.includeUnavailable ?? false, options.allowedNamespaces);
    const passing: StoredEntry[] = [];
    const visit = (slot: number): void => {
      const entry = this.entries[slot];
      if (entry && accept(slot)) passing.push(entry);
    };
    if (slots) slots.forEach(visit);
    else for (const slot of this.slotByKey.values()) visit(slot);
    passing.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { entries: passing.slice(offset, offset + limit).map(unpack), total: passing.length };
  }

  /**
   * Ranks the agents passing the filters for the query text. Hybrid: the lexical top and the
   * semantic top are merged and each candidate scores `lexical + semanticWeight · cosine`.
   * An empty text ranks the filtered agents by trust score.
   */
  search(query: SearchQuery): SearchResult {
    if (!this.textIndex) throw new Error('this catalogue keeps no text index; its search thread ranks');
    const { slots, bitmap, accept } = this.candidates(query.filters, query.includeUnavailable ?? false, query.allowedNamespaces);
    const want = query.offset + query.limit;
    const queryWords = words(query.text);
    const queryTerms = termsOf(queryWords);
    const ranker = query.ranker ?? 'hybrid';
    const queryVector = ranker !== 'lexical' && this.wordVectors ? embedWords(this.wordVectors, queryWords) : undefined;

    if (queryTerms.length === 0 && !queryVector) return this.byTrust(slots, accept, query.offset, query.limit);

    const depth = Math.max(want + 1, CANDIDATE_FLOOR);
    // The candidates in parallel arrays (the lexical top, then the semantic top's new slots):
    // a search allocates a few small arrays, not an object per candidate.
    const lexicalTop = ranker !== 'semantic' && queryTerms.length > 0 ? this.lexical.search(queryTerms, depth, bitmap) : [];
    const semanticTop = queryVector ? this.semanticTop(queryVector, Math.max(want + 1, this.semanticCandidates), slots, accept) : [];
    const capacity = lexicalTop.length + semanticTop.length;
    const candidateSlots = new Int32Array(capacity);
    const lexicalScores = new Float64Array(capacity);
    const semanticScores = new Float64Array(capacity);
    let count = 0;
    const best = lexicalTop[0]?.score ?? 1;
    for (const hit of lexicalTop) {
      candidateSlots[count] = hit.slot;
      lexicalScores[count++] = hit.score / best;
    }
    if (queryVector) {
      const lexicalCount = count;
      for (let i = 0; i < lexicalCount; i++) semanticScores[i] = this.vectors.similarity(queryVector, candidateSlots[i] as number);
      const fromLexical = new Set<number>(candidateSlots.subarray(0, lexicalCount));
      // The semantic top comes scored, exactly as `similarity` scores.
      for (const hit of semanticTop) {
        if (fromLexical.has(hit.slot)) continue;
        candidateSlots[count] = hit.slot;
        semanticScores[count++] = hit.score;
      }
    }
    const weight = ranker === 'lexical' ? 0 : ranker === 'semantic' ? 1 : this.semanticWeight;
    const lexicalWeight = ranker === 'semantic' ? 0 : 1;
    const scores = new Float64Array(count);
    for (let i = 0; i < count; i++) scores[i] = lexicalWeight * (lexicalScores[i] as number) + weight * (semanticScores[i] as number);
    const order = Array.from({ length: count }, (_, i) => i).sort(
      (a, b) => (scores[b] as number) - (scores[a] as number) || (candidateSlots[a] as number) - (candidateSlots[b] as number),
    );
    // Stem -> the first query word with that stem, to explain matches in the caller's words.
    const wordOfTerm: [string, string][] = [];
    let next = 0;
    for (const word of queryWords) {
      if (STOP_WORDS.has(word)) continue;
      const term = queryTerms[next++] as string;
      if (!wordOfTerm.some(([known]) => known === term)) wordOfTerm.push([term, word]);
    }
    const hits: SearchHit[] = [];
    for (const i of order.slice(query.offset, want)) {
      const slot = candidateSlots[i] as number;
      const stored = this.entries[slot];
      if (!stored) continue;
      const entry = unpack(stored);
      const matchedTerms = wordOfTerm.filter(([term]) => this.lexical.contains(slot, term)).map(([, word]) => word);
      hits.push({ entry, score: scores[i] as number, lexical: lexicalScores[i] as number, semantic: semanticScores[i] as number, matchedTerms });
    }
    return { hits, more: count > want };
  }

  /** The semantic top-k among the candidates, by the cheapest exact or approximate way. */
  private semanticTop(queryVector: Float32Array, k: number, slots: readonly number[], accept: (slot: number) => boolean): Scored[] {
    const vectors = this.vectors;
    const selectivity = slots.length / Math.max(this.size, 1);
    // Without an ANN index (few distinct vectors): walk the distinct vectors best first
    // (compared natively, SIMD) unless the candidates are fewer than them, then scan
    // the candidates (each distinct vector compared once, in JavaScript). Both are exact.
    if (!vectors.usesAnn) {
      return vectors.distinct <= slots.length * GROUP_WALK_RATIO ? vectors.exactByGroup(queryVector, k, accept, selectivity) : vectors.exact(queryVector, k, slots);
    }
    // With one: few candidates are scanned exactly, many go to the ANN index.
    if (slots.length <= EXACT_SCAN_LIMIT) return vectors.exact(queryVector, k, slots);
    return vectors.nearest(queryVector, k, accept, selectivity, slots);
  }

  private byTrust(slots: readonly number[] | undefined, accept: (slot: number) => boolean, offset: number, limit: number): SearchResult {
    const passing: StoredEntry[] = [];
    const visit = (slot: number): void => {
      const entry = this.entries[slot];
      if (entry && accept(slot)) passing.push(entry);
    };
    if (slots) slots.forEach(visit);
    else for (const slot of this.slotByKey.values()) visit(slot);
    passing.sort((a, b) => (b.trustScore ?? -1) - (a.trustScore ?? -1) || (a.key < b.key ? -1 : 1));
    return {
      hits: passing.slice(offset, offset + limit).map(unpack).map((entry) => ({ entry, score: (entry.trustScore ?? 0) / 100, lexical: 0, semantic: 0, matchedTerms: [] })),
      more: passing.length > offset + limit,
    };
  }

  /**
   * The slots passing every filter and the visibility rules, as a list and a bitmap (the
   * lexical ranker reads it once per posting), cached per filter combination until the
   * index changes: filters repeat far more than queries do.
   */
  private candidates(
    filters: Filters,
    includeUnavailable: boolean,
    allowedNamespaces: ReadonlySet<string> | undefined,
  ): { slots: number[]; bitmap: SlotBitmap; accept: (slot: number) => boolean } {
    const key = JSON.stringify([filters, includeUnavailable, allowedNamespaces ? [...allowedNamespaces].sort() : null]);
    let cached = this.candidateCache.get(key);
    if (!cached || cached.version !== this.version) {
      const setSlots = this.filterSets.candidates(filters, allowedNamespaces);
      const { minTrustScore, maxLatencyMs } = filters;
      const bitmap = slotBitmap([], this.entries.length);
      const slots: number[] = [];
      const check = (slot: number): void => {
        const entry = this.entries[slot];
        if (!entry) return;
        if (!includeUnavailable && (!entry.ready || entry.quarantined)) return;
        if (minTrustScore !== undefined && minTrustScore > 0 && (entry.trustScore === undefined || entry.trustScore < minTrustScore)) return;
        if (maxLatencyMs !== undefined && (entry.maxLatencyMs === undefined || entry.maxLatencyMs > maxLatencyMs)) return;
        bitmap[slot >>> 5] = ((bitmap[slot >>> 5] ?? 0) | (1 << (slot & 31))) >>> 0;
        slots.push(slot);
      };
      if (setSlots) setSlots.forEach(check);
      else for (const slot of this.slotByKey.values()) check(slot);
      if (this.candidateCache.size >= 64) this.candidateCache.clear();
      cached = { version: this.version, slots, bitmap };
      this.candidateCache.set(key, cached);
    }
    const { bitmap } = cached;
    return { slots: cached.slots, bitmap, accept: (slot) => hasSlot(bitmap, slot) };
  }
}
