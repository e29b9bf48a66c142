// Durable append-only log of the context memory. Each record is framed as
// u32 length | u32 crc32 | JSON, appended and fsynced before the change is acknowledged.
// Writes that arrive while a flush is running share the next fsync (group commit). When the
// file has grown past a threshold and to twice its size after the last compaction, it is
// rewritten as a snapshot of the live entries (written aside, fsynced, renamed over).
import { open as openFile, mkdir, readFile, rename, rm, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { getErrorMessage } from '../../operator/kube/errors.js';

/** Values in the log are the sealed (encrypted) bytes, base64: never plaintext. */
export interface PutRecord {
  readonly op: 'put';
  readonly mesh: string;
  readonly key: string;
  readonly sealed: string;
  readonly trustLevel: number;
  readonly expiresAt: number | null;
  readonly updatedAt: number;
  readonly writer: string;
}

export interface DeleteRecord {
  readonly op: 'delete';
  readonly mesh: string;
  readonly key: string;
}

export type LogRecord = PutRecord | DeleteRecord;

export interface MemoryLogOptions {
  /** Compaction is considered once the file is at least this large (default 64 MiB). */
  readonly compactBytes?: number;
  /** The live entries as put records, read when compacting; called synchronously. */
  readonly snapshot: () => Iterable<PutRecord>;
}

const LOG_FILE = 'memory.log';
const FRAME_HEADER = 8;

function frame(record: LogRecord): Buffer {
  const payload = Buffer.from(JSON.stringify(record), 'utf8');
  const header = Buffer.alloc(FRAME_HEADER);
  header.writeUInt32BE(payload.length, 0);
  header.writeUInt32BE(crc32(payload), 4);
  return Buffer.concat([header, payload]);
}

/** Parses frames until the end or the first torn or corrupt one; returns the records and the good length. */
export function parseLog(bytes: Buffer): { records: LogRecord[]; validBytes: number } {
  const records: LogRecord[] = [];
  let offset = 0;
  while (offset + FRAME_HEADER <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const checksum = bytes.readUInt32BE(offset + 4);
    const end = offset + FRAME_HEADER + length;
    if (end > bytes.length) break;
    const payload = bytes.subarray(offset + FRAME_HEADER, end);
    if (crc32(payload) !== checksum) break;
    records.push(JSON.parse(payload.toString('utf8')) as LogRecord);
    offset = end;
  }
  return { records, validBytes: offset };
}

interface Pending {
  readonly bytes: Buffer;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

export class MemoryLog {
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private closed = false;
  private failure: Error | undefined;
  /** Completed compactions; for tests and metrics. */
  compactions = 0;

  private constructor(
    private readonly dir: string,
    private handle: FileHandle,
    private fileBytes: number,
    private compactedBytes: number,
    private readonly options: MemoryLogOptions,
  ) {}

  /**
   * Opens (or creates) the log in `dir` and returns the records to replay. A torn record at
   * the end (a crash mid-write, never acknowledged) is cut off.
   */
  static async open(dir: string, options: MemoryLogOptions): Promise<{ log: MemoryLog; records: LogRecord[] }> {
    await mkdir(dir, { recursive: true });
    const path = join(dir, LOG_FILE);
    await rm(`${path}.compact`, { force: true });
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      bytes = Buffer.alloc(0);
    }
    const { records, validBytes } = parseLog(bytes);
    if (validBytes < bytes.length) await truncate(path, validBytes);
    const handle = await openFile(path, 'a');
    await syncDir(dir);
    return { log: new MemoryLog(dir, handle, validBytes, validBytes, options), records };
  }

  get sizeBytes(): number {
    return this.fileBytes;
  }

  /** Resolves once the records are on disk (fsynced), in the order given and after earlier appends. */
  append(records: readonly LogRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('memory log is closed'));
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.push({ bytes: Buffer.concat(records.map(frame)), resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.flushing;
    await this.handle.close();
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        const bytes = Buffer.concat(batch.map((item) => item.bytes));
        if (this.shouldCompact(bytes.length)) {
          // The snapshot is taken now, synchronously: it holds every change appended so far,
          // this batch included, so the batch is durable once the snapshot is.
          await this.compact([...this.options.snapshot()]);
        } else {
          await this.handle.write(bytes);
          await this.handle.datasync();
          this.fileBytes += bytes.length;
        }
        for (const item of batch) item.resolve();
      } catch (error) {
        // A failed write leaves the file in an unknown state: refuse further writes.
        this.failure = error instanceof Error ? error : new Error(getErrorMessage(error));
        for (const item of [...batch, ...this.pending]) item.reject(error);
        this.pending = [];
      }
    }
    this.flushing = undefined;
  }

  private shouldCompact(incoming: number): boolean {
    const size = this.fileBytes + incoming;
    return size >= (this.options.compactBytes ?? 64 * 1024 * 1024) && size > 2 * this.compactedBytes;
  }

  private async compact(live: readonly PutRecord[]): Promise<void> {
    const path = join(this.dir, LOG_FILE);
    const temporary = `${path}.compact`;
    const bytes = Buffer.concat(live.map(frame));
    const out = await openFile(temporary, 'w');
    try {
      await out.write(bytes);
      await out.datasync();
    } finally {
      await out.close();
    }
    await rename(temporary, path);
    await syncDir(this.dir);
    await this.handle.close();
    this.handle = await openFile(path, 'a');
    this.fileBytes = bytes.length;
    this.compactedBytes = bytes.length;
    this.compactions++;
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await openFile(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
