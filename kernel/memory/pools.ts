// Pure accounting of the context memory: trust bands with byte quotas, LRU order, TTLs.
// No gRPC, no disk, no crypto: the service wraps it. Time comes from an injected clock.

/** Milliseconds since the Unix epoch; injected so tests control time. */
export type Clock = () => number;

/** A range of entry trust levels sharing one byte quota. */
export interface TrustBand {
  readonly name: string;
  /** Inclusive bounds, 0..100. */
  readonly minTrust: number;
  readonly maxTrust: number;
  readonly quotaBytes: number;
}

/** Default bands: the lower the trust, the smaller the pool and the sooner it is evicted. */
export const DEFAULT_TRUST_BANDS: readonly TrustBand[] = [
  { name: 'low', minTrust: 0, maxTrust: 39, quotaBytes: 16 * 1024 * 1024 },
  { name: 'medium', minTrust: 40, maxTrust: 69, quotaBytes: 32 * 1024 * 1024 },
  { name: 'high', minTrust: 70, maxTrust: 84, quotaBytes: 64 * 1024 * 1024 },
  { name: 'critical', minTrust: 85, maxTrust: 100, quotaBytes: 128 * 1024 * 1024 },
];

/** One stored entry. `value` is whatever the caller keeps (the service keeps ciphertext). */
export interface MemoryEntry {
  readonly mesh: string;
  readonly key: string;
  readonly value: Buffer;
  readonly trustLevel: number;
  /** Unix ms; undefined when the entry does not expire. */
  readonly expiresAt: number | undefined;
  readonly updatedAt: number;
  readonly writer: string;
}

export interface PoolOptions {
  readonly bands?: readonly TrustBand[];
  /**
   * Bytes all bands together may hold; defaults to the sum of the band quotas. When it is
   * smaller, bands compete for it and lower bands give way first (see `planPut`).
   */
  readonly capacityBytes?: number;
  readonly clock?: Clock;
}

export type PutPlan =
  | { readonly ok: true; readonly evict: readonly MemoryEntry[]; readonly replaced: MemoryEntry | undefined }
  | { readonly ok: false; readonly reason: string };

export interface BandUsage {
  readonly name: string;
  readonly entries: number;
  readonly usedBytes: number;
  readonly quotaBytes: number;
}

const entryId = (mesh: string, key: string): string => `${mesh}\u0000${key}`;

/** Bytes an entry counts against its quota: its value plus its key and mesh names. */
export function entrySize(entry: Pick<MemoryEntry, 'mesh' | 'key' | 'value'>): number {
  return entry.value.length + Buffer.byteLength(entry.key) + Buffer.byteLength(entry.mesh);
}

/** Checks that bands cover 0..100 exactly once, in ascending order, with positive quotas. */
export function validateBands(bands: readonly TrustBand[]): void {
  let next = 0;
  for (const band of bands) {
    if (band.minTrust !== next) throw new Error(`trust band ${band.name} starts at ${band.minTrust}, expected ${next}`);
    if (band.maxTrust < band.minTrust) throw new Error(`trust band ${band.name} ends before it starts`);
    if (!(band.quotaBytes > 0)) throw new Error(`trust band ${band.name} needs a positive quotaBytes`);
    next = band.maxTrust + 1;
  }
  if (next !== 101) throw new Error(`trust bands end at ${next - 1}, expected 100`);
}

/**
 * Entries of all meshes in trust bands with byte quotas.
 *
 * Eviction rule, when a put needs room:
 * 1. A band's own quota is freed only inside that band, least recently used first.
 * 2. The shared capacity is freed from the lowest non-empty band first, LRU within it,
 *    moving up one band at a time but never above the band being written: a low-trust
 *    write cannot push out higher-trust entries. If that is not enough, the put is refused.
 * 3. An entry larger than its band's quota is refused.
 * Expired entries are dropped lazily when touched and by `sweep()`, and never count as hits.
 */
export class MemoryPools {
  readonly bands: readonly TrustBand[];
  readonly capacityBytes: number;
  private readonly clock: Clock;
  /** Per band, entries in LRU order: a Map iterates in insertion order, so re-inserting on use moves to the end. */
  private readonly lru: Map<string, MemoryEntry>[];
  private readonly usedBytes: number[];
  private readonly byId = new Map<string, { entry: MemoryEntry; band: number }>();
  private totalBytes = 0;

  constructor(options: PoolOptions = {}) {
    this.bands = options.bands ?? DEFAULT_TRUST_BANDS;
    validateBands(this.bands);
    this.capacityBytes = options.capacityBytes ?? this.bands.reduce((sum, band) => sum + band.quotaBytes, 0);
    this.clock = options.clock ?? Date.now;
    this.lru = this.bands.map(() => new Map<string, MemoryEntry>());
    this.usedBytes = this.bands.map(() => 0);
  }

  /** Index of the band holding a trust level (0..100). */
  bandOf(trustLevel: number): number {
    const index = this.bands.findIndex((band) => trustLevel >= band.minTrust && trustLevel <= band.maxTrust);
    if (index < 0) throw new RangeError(`trust level ${trustLevel} is outside 0..100`);
    return index;
  }

  get size(): number {
    return this.byId.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  usage(): BandUsage[] {
    return this.bands.map((band, index) => ({
      name: band.name,
      entries: this.lru[index]?.size ?? 0,
      usedBytes: this.usedBytes[index] ?? 0,
      quotaBytes: band.quotaBytes,
    }));
  }

  /** The live entry without touching its LRU position; expired entries are dropped. */
  peek(mesh: string, key: string): MemoryEntry | undefined {
    const found = this.byId.get(entryId(mesh, key));
    if (found === undefined) return undefined;
    if (this.isExpired(found.entry)) {
      this.remove(mesh, key);
      return undefined;
    }
    return found.entry;
  }

  /** The live entry, marked most recently used. */
  get(mesh: string, key: string): MemoryEntry | undefined {
    const entry = this.peek(mesh, key);
    if (entry === undefined) return undefined;
    const band = this.lru[this.bandOf(entry.trustLevel)];
    const id = entryId(mesh, key);
    band?.delete(id);
    band?.set(id, entry);
    return entry;
  }

  /**
   * Decides what a put would evict, without changing anything. Expired entries are
   * collected first so they never cost a live entry its place.
   */
  planPut(entry: MemoryEntry): PutPlan {
    this.sweep();
    const band = this.bandOf(entry.trustLevel);
    const size = entrySize(entry);
    const quota = this.bands[band]?.quotaBytes ?? 0;
    if (size > quota) return { ok: false, reason: `entry of ${size} bytes exceeds the ${quota}-byte quota of trust band ${this.bands[band]?.name}` };
    const replaced = this.byId.get(entryId(entry.mesh, entry.key))?.entry;
    const freed = new Set<string>();
    if (replaced !== undefined) freed.add(entryId(replaced.mesh, replaced.key));
    const freedBytes = this.usedBytes.map(() => 0);
    if (replaced !== undefined) freedBytes[this.bandOf(replaced.trustLevel)]! += entrySize(replaced);
    const evict: MemoryEntry[] = [];
    const take = (index: number, candidate: MemoryEntry): void => {
      freed.add(entryId(candidate.mesh, candidate.key));
      freedBytes[index]! += entrySize(candidate);
      evict.push(candidate);
    };
    const bandUsed = (index: number): number => (this.usedBytes[index] ?? 0) - (freedBytes[index] ?? 0);
    const totalUsed = (): number => this.totalBytes - freedBytes.reduce((sum, bytes) => sum + bytes, 0);

    // 1. The band's own quota, LRU first.
    for (const [id, candidate] of this.lru[band] ?? []) {
      if (bandUsed(band) + size <= quota) break;
      if (!freed.has(id)) take(band, candidate);
    }
    // 2. The shared capacity, lowest band first, never above the band written to.
    for (let index = 0; index <= band && totalUsed() + size > this.capacityBytes; index++) {
      for (const [id, candidate] of this.lru[index] ?? []) {
        if (totalUsed() + size <= this.capacityBytes) break;
        if (!freed.has(id)) take(index, candidate);
      }
    }
    if (totalUsed() + size > this.capacityBytes) {
      return { ok: false, reason: `memory is full: ${totalUsed()} of ${this.capacityBytes} bytes are held by entries of this or higher trust` };
    }
    return { ok: true, evict, replaced };
  }

  /** Applies a put planned by `planPut` (the caller evicts `plan.evict` first). */
  insert(entry: MemoryEntry): void {
    this.remove(entry.mesh, entry.key);
    const band = this.bandOf(entry.trustLevel);
    const id = entryId(entry.mesh, entry.key);
    this.lru[band]?.set(id, entry);
    this.byId.set(id, { entry, band });
    const size = entrySize(entry);
    this.usedBytes[band]! += size;
    this.totalBytes += size;
  }

  /** Plans and applies a put; returns what was evicted, or the reason it was refused. */
  put(entry: MemoryEntry): PutPlan {
    const plan = this.planPut(entry);
    if (!plan.ok) return plan;
    for (const victim of plan.evict) this.remove(victim.mesh, victim.key);
    this.insert(entry);
    return plan;
  }

  remove(mesh: string, key: string): MemoryEntry | undefined {
    const id = entryId(mesh, key);
    const found = this.byId.get(id);
    if (found === undefined) return undefined;
    this.byId.delete(id);
    this.lru[found.band]?.delete(id);
    const size = entrySize(found.entry);
    this.usedBytes[found.band]! -= size;
    this.totalBytes -= size;
    return found.entry;
  }

  /** Drops every expired entry; returns them. */
  sweep(): MemoryEntry[] {
    const now = this.clock();
    const expired: MemoryEntry[] = [];
    for (const { entry } of this.byId.values()) {
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) expired.push(entry);
    }
    for (const entry of expired) this.remove(entry.mesh, entry.key);
    return expired;
  }

  /** Live entries of a mesh whose key starts with `prefix`, in key order, after `afterKey`. */
  list(mesh: string, prefix: string, afterKey = '', filter: (entry: MemoryEntry) => boolean = () => true, limit = Infinity): { entries: MemoryEntry[]; more: boolean } {
    const now = this.clock();
    const matches: MemoryEntry[] = [];
    for (const { entry } of this.byId.values()) {
      if (entry.mesh !== mesh || !entry.key.startsWith(prefix) || entry.key <= afterKey) continue;
      if (entry.expiresAt !== undefined && entry.expiresAt <= now) continue;
      if (filter(entry)) matches.push(entry);
    }
    matches.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return { entries: matches.slice(0, limit), more: matches.length > limit };
  }

  /** Every entry, live or not yet swept: what a snapshot must hold. */
  *entries(): IterableIterator<MemoryEntry> {
    for (const { entry } of this.byId.values()) yield entry;
  }

  private isExpired(entry: MemoryEntry): boolean {
    return entry.expiresAt !== undefined && entry.expiresAt <= this.clock();
  }
}
