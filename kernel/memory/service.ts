// The context memory without its transport: access rules, validation, encryption and
// durability around the pure pools. The gRPC server maps its errors to status codes.
import { getErrorMessage } from '../../operator/kube/errors.js';
import type { Caller } from './callers.js';
import { open, seal, SEAL_OVERHEAD } from './crypto.js';
import type { KeyStore } from './keystore.js';
import { MemoryLog, type LogRecord, type PutRecord } from './log.js';
import { MemoryPools, type Clock, type MemoryEntry, type TrustBand } from './pools.js';

export type MemoryErrorCode = 'INVALID_ARGUMENT' | 'PERMISSION_DENIED' | 'NOT_FOUND' | 'RESOURCE_EXHAUSTED' | 'UNAVAILABLE';

export class MemoryError extends Error {
  override readonly name = 'MemoryError';
  constructor(
    readonly code: MemoryErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ContextMemoryOptions {
  /** Directory of the durable log; one per operator. */
  readonly dataDir: string;
  readonly keyStore: KeyStore;
  readonly bands?: readonly TrustBand[];
  readonly capacityBytes?: number;
  /** Largest value accepted, in bytes (default 1 MiB). */
  readonly maxValueBytes?: number;
  /** Longest key accepted, in bytes (default 512). */
  readonly maxKeyBytes?: number;
  readonly compactBytes?: number;
  readonly clock?: Clock;
}

export interface PutInput {
  readonly mesh: string;
  readonly key: string;
  readonly value: Buffer;
  readonly trustLevel: number;
  readonly ttlSeconds: number;
}

export interface PutResult {
  readonly expiresAt: number | undefined;
  readonly evicted: number;
}

export interface GetResult {
  readonly value: Buffer;
  readonly trustLevel: number;
  readonly expiresAt: number | undefined;
  readonly updatedAt: number;
  readonly writer: string;
}

export interface ListInput {
  readonly mesh: string;
  readonly prefix: string;
  readonly pageSize: number;
  readonly pageToken: string;
}

export interface EntrySummary {
  readonly key: string;
  readonly trustLevel: number;
  readonly sizeBytes: number;
  readonly expiresAt: number | undefined;
  readonly updatedAt: number;
}

export interface ListResult {
  readonly entries: EntrySummary[];
  readonly nextPageToken: string;
}

const DEFAULT_PAGE_SIZE = 100;
const MAX_PAGE_SIZE = 1000;

function invalid(field: string, problem: string): MemoryError {
  return new MemoryError('INVALID_ARGUMENT', `${field}: ${problem}`);
}

function toRecord(entry: MemoryEntry): PutRecord {
  return {
    op: 'put',
    mesh: entry.mesh,
    key: entry.key,
    sealed: entry.value.toString('base64'),
    trustLevel: entry.trustLevel,
    expiresAt: entry.expiresAt ?? null,
    updatedAt: entry.updatedAt,
    writer: entry.writer,
  };
}

/**
 * Access rules (trust is the caller's score, level the entry's):
 * - read (Get, List) needs trust >= level; List hides entries the caller cannot read;
 * - write (Put) needs trust >= the new level, and >= the old level when replacing, so a
 *   low-trust caller can neither overwrite nor crowd out higher-trust context;
 * - Delete needs trust >= level.
 */
export class ContextMemory {
  private constructor(
    private readonly pools: MemoryPools,
    private readonly log: MemoryLog,
    private readonly keyStore: KeyStore,
    private readonly clock: Clock,
    private readonly maxValueBytes: number,
    private readonly maxKeyBytes: number,
  ) {}

  /** Opens the memory on its directory and replays the log: every acknowledged change is back. */
  static async open(options: ContextMemoryOptions): Promise<ContextMemory> {
    const clock = options.clock ?? Date.now;
    const pools = new MemoryPools({
      ...(options.bands ? { bands: options.bands } : {}),
      ...(options.capacityBytes !== undefined ? { capacityBytes: options.capacityBytes } : {}),
      clock,
    });
    const { log, records } = await MemoryLog.open(options.dataDir, {
      ...(options.compactBytes !== undefined ? { compactBytes: options.compactBytes } : {}),
      snapshot: () => [...pools.entries()].map(toRecord),
    });
    replay(pools, records, clock());
    return new ContextMemory(pools, log, options.keyStore, clock, options.maxValueBytes ?? 1024 * 1024, options.maxKeyBytes ?? 512);
  }

  get entryCount(): number {
    return this.pools.size;
  }

  get logBytes(): number {
    return this.log.sizeBytes;
  }

  usage(): ReturnType<MemoryPools['usage']> {
    return this.pools.usage();
  }

  async put(caller: Caller, input: PutInput): Promise<PutResult> {
    this.checkName('mesh', input.mesh);
    this.checkName('key', input.key);
    if (!Number.isInteger(input.trustLevel) || input.trustLevel < 0 || input.trustLevel > 100) {
      throw invalid('trust_level', `must be an integer in 0..100, got ${input.trustLevel}`);
    }
    if (!Number.isInteger(input.ttlSeconds) || input.ttlSeconds < 0) throw invalid('ttl_seconds', `must be 0 or positive, got ${input.ttlSeconds}`);
    if (input.value.length > this.maxValueBytes) throw invalid('value', `is ${input.value.length} bytes, the limit is ${this.maxValueBytes}`);
    if (caller.trustScore < input.trustLevel) {
      throw new MemoryError('PERMISSION_DENIED', `writing at trust level ${input.trustLevel} requires trust ${input.trustLevel}; caller ${caller.id} has ${caller.trustScore}`);
    }
    const encryptionKey = await this.keyStore.keyFor(input.mesh);
    // Checked after the await: another call may have changed the entry meanwhile.
    const previous = this.pools.peek(input.mesh, input.key);
    if (previous !== undefined && caller.trustScore < previous.trustLevel) {
      throw new MemoryError('PERMISSION_DENIED', `replacing ${input.key} requires trust level ${previous.trustLevel}; caller ${caller.id} has ${caller.trustScore}`);
    }
    const now = this.clock();
    const entry: MemoryEntry = {
      mesh: input.mesh,
      key: input.key,
      value: seal(encryptionKey, input.mesh, input.key, input.value),
      trustLevel: input.trustLevel,
      expiresAt: input.ttlSeconds > 0 ? now + input.ttlSeconds * 1000 : undefined,
      updatedAt: now,
      writer: caller.id,
    };
    const plan = this.pools.planPut(entry);
    if (!plan.ok) throw new MemoryError('RESOURCE_EXHAUSTED', plan.reason);
    // Applied in memory and queued for the log in one synchronous step, so the log's order
    // is the memory's order; acknowledged only after the fsync.
    const records: LogRecord[] = plan.evict.map((victim) => ({ op: 'delete', mesh: victim.mesh, key: victim.key }));
    records.push(toRecord(entry));
    for (const victim of plan.evict) this.pools.remove(victim.mesh, victim.key);
    this.pools.insert(entry);
    await this.durable(records);
    return { expiresAt: entry.expiresAt, evicted: plan.evict.length };
  }

  async get(caller: Caller, mesh: string, key: string): Promise<GetResult> {
    this.checkName('mesh', mesh);
    this.checkName('key', key);
    const entry = this.readable(caller, mesh, key);
    const encryptionKey = await this.keyStore.keyFor(mesh);
    this.pools.get(mesh, key);
    return {
      value: open(encryptionKey, mesh, key, entry.value),
      trustLevel: entry.trustLevel,
      expiresAt: entry.expiresAt,
      updatedAt: entry.updatedAt,
      writer: entry.writer,
    };
  }

  /** Resolves false when there was no such entry. */
  async delete(caller: Caller, mesh: string, key: string): Promise<boolean> {
    this.checkName('mesh', mesh);
    this.checkName('key', key);
    const entry = this.pools.peek(mesh, key);
    if (entry === undefined) return false;
    this.checkTrust(caller, entry);
    this.pools.remove(mesh, key);
    await this.durable([{ op: 'delete', mesh, key }]);
    return true;
  }

  list(caller: Caller, input: ListInput): ListResult {
    this.checkName('mesh', input.mesh);
    if (!Number.isInteger(input.pageSize) || input.pageSize < 0 || input.pageSize > MAX_PAGE_SIZE) {
      throw invalid('page_size', `must be in 0..${MAX_PAGE_SIZE}, got ${input.pageSize}`);
    }
    let afterKey = '';
    if (input.pageToken !== '') {
      afterKey = Buffer.from(input.pageToken, 'base64url').toString('utf8');
      if (afterKey === '' || !afterKey.startsWith(input.prefix)) throw invalid('page_token', 'does not belong to this listing');
    }
    const limit = input.pageSize === 0 ? DEFAULT_PAGE_SIZE : input.pageSize;
    const { entries, more } = this.pools.list(input.mesh, input.prefix, afterKey, (entry) => entry.trustLevel <= caller.trustScore, limit);
    const last = entries[entries.length - 1];
    return {
      entries: entries.map((entry) => ({
        key: entry.key,
        trustLevel: entry.trustLevel,
        sizeBytes: entry.value.length - SEAL_OVERHEAD,
        expiresAt: entry.expiresAt,
        updatedAt: entry.updatedAt,
      })),
      nextPageToken: more && last !== undefined ? Buffer.from(last.key, 'utf8').toString('base64url') : '',
    };
  }

  /** Drops expired entries; run periodically by the server. Expiry needs no log record: replay skips them too. */
  sweep(): number {
    return this.pools.sweep().length;
  }

  async close(): Promise<void> {
    await this.log.close();
  }

  private readable(caller: Caller, mesh: string, key: string): MemoryEntry {
    const entry = this.pools.peek(mesh, key);
    if (entry === undefined) throw new MemoryError('NOT_FOUND', `no entry ${key} in mesh ${mesh}`);
    this.checkTrust(caller, entry);
    return entry;
  }

  private checkTrust(caller: Caller, entry: MemoryEntry): void {
    if (caller.trustScore < entry.trustLevel) {
      throw new MemoryError('PERMISSION_DENIED', `entry ${entry.key} requires trust level ${entry.trustLevel}; caller ${caller.id} has ${caller.trustScore}`);
    }
  }

  private checkName(field: 'mesh' | 'key', value: string): void {
    if (value === '') throw invalid(field, 'must not be empty');
    if (field === 'key' && Buffer.byteLength(value) > this.maxKeyBytes) throw invalid('key', `is longer than ${this.maxKeyBytes} bytes`);
    if (field === 'mesh' && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(value)) {
      // The mesh names a Secret, so it must be a DNS label.
      throw invalid('mesh', `must be a DNS label (lower-case letters, digits, '-'; at most 63), got ${JSON.stringify(value)}`);
    }
  }

  private async durable(records: readonly LogRecord[]): Promise<void> {
    try {
      await this.log.append(records);
    } catch (error) {
      throw new MemoryError('UNAVAILABLE', `the change could not be made durable: ${getErrorMessage(error)}`);
    }
  }
}

/** Applies logged changes in order; puts never evict here, since evictions were logged as deletes. */
export function replay(pools: MemoryPools, records: readonly LogRecord[], now: number): void {
  for (const record of records) {
    if (record.op === 'delete') {
      pools.remove(record.mesh, record.key);
    } else if (record.expiresAt === null || record.expiresAt > now) {
      pools.insert({
        mesh: record.mesh,
        key: record.key,
        value: Buffer.from(record.sealed, 'base64'),
        trustLevel: record.trustLevel,
        expiresAt: record.expiresAt ?? undefined,
        updatedAt: record.updatedAt,
        writer: record.writer,
      });
    } else {
      pools.remove(record.mesh, record.key);
    }
  }
}
