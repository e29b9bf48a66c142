// Sentence vectors of the indexed agents, by slot, with an approximate-nearest-neighbour
// index (usearch HNSW) kept beside them once the catalogue is large enough to need it.
//
// Agents whose summaries embed to the same vector (the same agent deployed in many
// namespaces or meshes, copies with the same skills) share one stored vector: a *group*.
// Similarities are computed once per group, and the HNSW graph holds groups, not slots:
// many identical points in an HNSW graph fill each other's neighbour lists and make the
// graph both slow and poorly connected, and a filtered search only has to walk groups
// until enough of their members pass the filters.
import { Index, MetricKind, ScalarKind, exactSearch } from 'usearch';
import { TopK, type Scored } from '../rank/topk.js';
import { WORD_VECTOR_DIMENSIONS } from '../rank/word-vectors.js';
import { dot } from '../rank/embed.js';

const D = WORD_VECTOR_DIMENSIONS;
/**
 * Neighbours asked of the HNSW index per wanted hit that passes the filters, over the
 * expected pass rate: enough that a retry (a second, wider search) is needed in about one
 * search in ten at 100,000 agents, without paying for a much wider first search every time.
 */
const OVERSAMPLING = 1.2;
const NO_GROUP = -1;

export interface VectorStoreOptions {
  /** From this many distinct vectors on, nearest neighbours come from the HNSW index (default 5,000). */
  readonly annThreshold?: number;
}

/** FNV-1a over the float bits: finds the group of an identical vector without string keys. */
function vectorHash(vector: Float32Array): number {
  const bits = new Uint32Array(vector.buffer, vector.byteOffset, vector.length);
  let hash = 0x811c9dc5;
  for (let i = 0; i < bits.length; i++) hash = Math.imul(hash ^ (bits[i] as number), 0x01000193);
  return hash >>> 0;
}

export class VectorStore {
  /** Group vectors, D numbers per group id. */
  private matrix = new Float32Array(1024 * D);
  /** Slots of each group (undefined for a free group id). */
  private members: (number[] | undefined)[] = [];
  private readonly freeGroups: number[] = [];
  /** Group ids by vector hash (collisions resolved by comparing the vectors). */
  private readonly groupsByHash = new Map<number, number[]>();
  private groupHash: number[] = [];
  /** Group of each slot, NO_GROUP when the slot has no vector. */
  private groupOf = new Int32Array(1024).fill(NO_GROUP);
  /**
   * The one slot of each group that has exactly one member, else NO_GROUP: with distinct
   * agents nearly every group has one, and the nearest-neighbour walk reads it from here
   * instead of from an array per group.
   */
  private soleMember = new Int32Array(1024).fill(NO_GROUP);
  private count = 0;
  private groups = 0;
  private ann: Index | undefined;
  // Per-search memo of group similarities: valid where `stamp[group] === this.stampNow`.
  private memo = new Float64Array(1024);
  private stamp = new Uint32Array(1024);
  private stampNow = 0;
  readonly annThreshold: number;

  constructor(options: VectorStoreOptions = {}) {
    this.annThreshold = options.annThreshold ?? 5_000;
  }

  /** Slots holding a vector. */
  get size(): number {
    return this.count;
  }

  /** Distinct vectors stored. */
  get distinct(): number {
    return this.groups;
  }

  get usesAnn(): boolean {
    return this.ann !== undefined || this.groups >= this.annThreshold;
  }

  set(slot: number, vector: Float32Array | undefined): void {
    this.remove(slot);
    if (!vector) return;
    if (slot >= this.groupOf.length) {
      const groupOf = new Int32Array(Math.max(slot + 1, this.groupOf.length * 2)).fill(NO_GROUP);
      groupOf.set(this.groupOf);
      this.groupOf = groupOf;
    }
    const group = this.groupFor(vector);
    const members = this.members[group] as number[];
    members.push(slot);
    this.soleMember[group] = members.length === 1 ? slot : NO_GROUP;
    this.groupOf[slot] = group;
    this.count++;
  }

  /** Builds the ANN index now if the store is large enough to use one. */
  prepare(): void {
    if (!this.ann && this.groups >= this.annThreshold) this.buildAnn();
  }

  remove(slot: number): void {
    const group = this.groupOf[slot] ?? NO_GROUP;
    if (group === NO_GROUP) return;
    this.groupOf[slot] = NO_GROUP;
    this.count--;
    const members = this.members[group] as number[];
    const at = members.indexOf(slot);
    members[at] = members[members.length - 1] as number;
    members.pop();
    this.soleMember[group] = members.length === 1 ? (members[0] as number) : NO_GROUP;
    if (members.length > 0) return;
    // The last member left: the group goes, from the hash table and the HNSW graph.
    this.members[group] = undefined;
    this.matrix.fill(0, group * D, (group + 1) * D);
    const hash = this.groupHash[group] as number;
    const sameHash = this.groupsByHash.get(hash) ?? [];
    sameHash.splice(sameHash.indexOf(group), 1);
    if (sameHash.length === 0) this.groupsByHash.delete(hash);
    this.freeGroups.push(group);
    this.groups--;
    this.ann?.remove(BigInt(group));
  }

  /** Cosine similarity of the unit query to the slot's vector; 0 when the slot has none. */
  similarity(query: Float32Array, slot: number): number {
    const group = this.groupOf[slot] ?? NO_GROUP;
    return group === NO_GROUP ? 0 : dot(query, this.matrix, group * D);
  }

  /** Exact top-k over the given slots (all slots when undefined), each distinct vector compared once. */
  exact(query: Float32Array, k: number, slots: Iterable<number> | undefined, accept?: (slot: number) => boolean): Scored[] {
    const top = new TopK(k);
    const { groupOf } = this;
    const stampNow = this.nextStamp();
    const { memo, stamp, matrix } = this;
    const visit = (slot: number): void => {
      const group = groupOf[slot] as number;
      if (group === NO_GROUP || (accept && !accept(slot))) return;
      let sum: number;
      if (stamp[group] === stampNow) sum = memo[group] as number;
      else {
        // The dot product is inlined: with few duplicates this loop is the whole cost of a scan.
        const base = group * D;
        sum = 0;
        for (let d = 0; d < D; d++) sum += (query[d] as number) * (matrix[base + d] as number);
        memo[group] = sum;
        stamp[group] = stampNow;
      }
      if (sum >= top.threshold) top.offer(slot, sum);
    };
    if (slots) for (const slot of slots) visit(slot);
    else for (let slot = 0; slot < groupOf.length; slot++) visit(slot);
    return top.result();
  }

  /**
   * Exact top-k among slots that `accept` passes, walking the distinct vectors from the most
   * similar down and expanding each into its members: cheaper than a scan of the candidates
   * when they far outnumber the distinct vectors. Widens until the k-th best is settled.
   */
  exactByGroup(query: Float32Array, k: number, accept: (slot: number) => boolean, selectivity: number): Scored[] {
    if (k <= 0 || this.groups === 0) return [];
    const { members } = this;
    const rows = this.matrix.subarray(0, members.length * D);
    const membersPerGroup = this.count / Math.max(this.groups, 1);
    let depth = Math.min(members.length, Math.ceil(k / Math.max(selectivity * membersPerGroup, 1e-3)) * 2 + 4);
    for (;;) {
      // usearch's exact search (SIMD, native) ranks the distinct vectors; rows of free group
      // ids are zero and are skipped. Inner product of unit vectors is their cosine.
      const ranked = exactSearch(rows, query, D, Math.min(depth + 1, members.length), MetricKind.IP, 1);
      const top = new TopK(k);
      let next = -Infinity;
      for (let i = 0; i < ranked.keys.length; i++) {
        const group = members[Number(ranked.keys[i])];
        if (!group) continue;
        if (i >= depth) {
          next = 1 - (ranked.distances[i] as number);
          break;
        }
        // Scored again here in double precision, as `exact` and `similarity` score, so the
        // result does not depend on which path found it.
        const similarity = dot(query, this.matrix, Number(ranked.keys[i]) * D);
        for (const slot of group) if (accept(slot)) top.offer(slot, similarity);
      }
      // Settled when k passed and the next distinct vector scores below the k-th by more
      // than float32 rounding (ties could bring lower slots), or when every one was walked.
      if (depth >= members.length || (top.size >= k && next + 1e-5 < top.threshold)) return top.result();
      depth = Math.min(members.length, depth * 4);
    }
  }

  /**
   * Approximate top-k among slots that `accept` passes, which hold about `selectivity`
   * (0-1] of all vectors: asks the HNSW index for enough groups that k of their members
   * survive the filter, and widens if they did not. Falls back to `exact` without an ANN index.
   */
  nearest(query: Float32Array, k: number, accept: (slot: number) => boolean, selectivity: number, candidates?: readonly number[]): Scored[] {
    this.prepare();
    // Without an index, or when the filtered candidates are fewer than the neighbours the
    // index would have to return, scanning the candidates is cheaper and exact.
    const fallback = (): Scored[] => (candidates ? this.exact(query, k, candidates) : this.exact(query, k, undefined, accept));
    if (!this.ann) return fallback();
    const membersPerGroup = this.count / Math.max(this.groups, 1);
    let want = Math.min(this.groups, Math.ceil((k / Math.max(selectivity * membersPerGroup, 1e-3)) * OVERSAMPLING) + 16);
    for (let attempt = 0; attempt < 4; attempt++) {
      if (candidates && want >= candidates.length) return fallback();
      const matches: { keys: BigUint64Array; distances: Float32Array } = this.ann.search(query, want, 1);
      // The keys are group ids below 2^32: read as the low halves of the 64-bit words (little
      // endian) rather than as one BigInt each.
      const keys = new Uint32Array(matches.keys.buffer, matches.keys.byteOffset, matches.keys.length * 2);
      const { soleMember, matrix } = this;
      const top = new TopK(k);
      let passed = 0;
      let seen = 0;
      for (let i = 0; i < matches.keys.length; i++) {
        const group = keys[2 * i] as number;
        const sole = soleMember[group] as number;
        if (sole !== NO_GROUP) {
          seen++;
          if (!accept(sole)) continue;
          passed++;
          // Scored in double precision, as `exact` and `similarity` score.
          const base = group * D;
          let similarity = 0;
          for (let d = 0; d < D; d++) similarity += (query[d] as number) * (matrix[base + d] as number);
          top.offer(sole, similarity);
          continue;
        }
        const members = this.members[group];
        if (!members) continue;
        let similarity = NaN;
        for (const slot of members) {
          seen++;
          if (!accept(slot)) continue;
          passed++;
          if (Number.isNaN(similarity)) similarity = dot(query, matrix, group * D);
          top.offer(slot, similarity);
        }
      }
      const result = top.result();
      if (result.length >= k || want >= this.groups) return result;
      // Widen by the pass rate just observed (the per-slot checks the estimate did not know).
      const passRate = Math.max(passed, 1) / Math.max(seen, 1);
      want = Math.min(this.groups, Math.ceil((k / (passRate * membersPerGroup)) * 1.3) + 16, want * 8);
    }
    return fallback();
  }

  /** The group holding exactly this vector, created when there is none. */
  private groupFor(vector: Float32Array): number {
    const hash = vectorHash(vector);
    const sameHash = this.groupsByHash.get(hash);
    for (const group of sameHash ?? []) {
      const base = group * D;
      let same = true;
      for (let d = 0; d < D && same; d++) same = this.matrix[base + d] === vector[d];
      if (same) return group;
    }
    const group = this.freeGroups.pop() ?? this.members.length;
    if ((group + 1) * D > this.matrix.length) {
      const capacity = Math.max(group + 1, (this.matrix.length / D) * 2);
      const matrix = new Float32Array(capacity * D);
      matrix.set(this.matrix);
      this.matrix = matrix;
      this.memo = new Float64Array(capacity);
      this.stamp = new Uint32Array(capacity);
      const soleMember = new Int32Array(capacity).fill(NO_GROUP);
      soleMember.set(this.soleMember);
      this.soleMember = soleMember;
      this.stampNow = 0;
    }
    this.matrix.set(vector, group * D);
    this.members[group] = [];
    this.groupHash[group] = hash;
    if (sameHash) sameHash.push(group);
    else this.groupsByHash.set(hash, [group]);
    this.groups++;
    // Once built, the ANN index follows every change; before, it is built in one batch
    // (multi-threaded, far faster than one add per vector) by `prepare` or the first search.
    this.ann?.add(BigInt(group), vector);
    return group;
  }

  private nextStamp(): number {
    this.stampNow = (this.stampNow + 1) >>> 0;
    if (this.stampNow === 0) {
      this.stamp.fill(0);
      this.stampNow = 1;
    }
    return this.stampNow;
  }

  private buildAnn(): void {
    // 8-bit components in the graph: a quarter of the memory and about 40 % less time per search
    // than single precision; the top 10 of the hybrid ranking did not change (measured at
    // 100,000 agents, bench/discovery.ts `fidelity`), because every hit is rescored in double.
    const ann = new Index({ dimensions: D, metric: MetricKind.Cos, quantization: ScalarKind.I8, connectivity: 16, expansion_add: 64, expansion_search: 64, multi: false });
    const groups: bigint[] = [];
    for (let group = 0; group < this.members.length; group++) if (this.members[group]) groups.push(BigInt(group));
    if (groups.length > 0) {
      const rows = new Float32Array(groups.length * D);
      groups.forEach((group, i) => rows.set(this.matrix.subarray(Number(group) * D, (Number(group) + 1) * D), i * D));
      ann.add(BigUint64Array.from(groups), rows, 0);
    }
    this.ann = ann;
  }
}
