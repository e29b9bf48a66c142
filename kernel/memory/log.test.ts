import { mkdtemp, readFile, rm, stat, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLog, parseLog, type PutRecord } from './log.js';

const put = (key: string, sealed = 'AAAA'): PutRecord => ({ op: 'put', mesh: 'm', key, sealed, trustLevel: 0, expiresAt: null, updatedAt: 1, writer: 'w' });

describe('MemoryLog', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshos-memory-log-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replays what was appended, in order, after reopening', async () => {
    const { log, records } = await MemoryLog.open(dir, { snapshot: () => [] });
    expect(records).toEqual([]);
    await Promise.all([log.append([put('a')]), log.append([put('b'), { op: 'delete', mesh: 'm', key: 'a' }])]);
    await log.close();
    const reopened = await MemoryLog.open(dir, { snapshot: () => [] });
    expect(reopened.records.map((record) => `${record.op}:${record.key}`)).toEqual(['put:a', 'put:b', 'delete:a']);
    await reopened.log.close();
  });

  it('cuts off a torn record at the end and keeps appending after it', async () => {
    const first = await MemoryLog.open(dir, { snapshot: () => [] });
    await first.log.append([put('a')]);
    await first.log.close();
    await appendFile(join(dir, 'memory.log'), Buffer.from([0, 0, 0, 99, 1, 2]));
    const second = await MemoryLog.open(dir, { snapshot: () => [] });
    expect(second.records).toHaveLength(1);
    await second.log.append([put('b')]);
    await second.log.close();
    const third = await MemoryLog.open(dir, { snapshot: () => [] });
    expect(third.records.map((record) => record.key)).toEqual(['a', 'b']);
    await third.log.close();
  });

  it('stops at a corrupt checksum', () => {
    const { records, validBytes } = parseLog(Buffer.from([0, 0, 0, 2, 0, 0, 0, 0, 123, 125]));
    expect(records).toEqual([]);
    expect(validBytes).toBe(0);
  });

  it('compacts into a snapshot of the live entries once large', async () => {
    let live: PutRecord[] = [];
    const { log } = await MemoryLog.open(dir, { compactBytes: 2_000, snapshot: () => live });
    for (let index = 0; index < 100; index++) {
      live = [put('only', String(index))];
      await log.append([put('only', String(index))]);
    }
    expect(log.compactions).toBeGreaterThan(0);
    expect(log.sizeBytes).toBeLessThan(2_000 * 2);
    expect((await stat(join(dir, 'memory.log'))).size).toBe(log.sizeBytes);
    await log.close();
    const reopened = await MemoryLog.open(dir, { snapshot: () => [] });
    const last = reopened.records.filter((record) => record.op === 'put').at(-1);
    expect(last?.op === 'put' && last.sealed).toBe('99');
    await reopened.log.close();
    expect((await readFile(join(dir, 'memory.log'))).length).toBeGreaterThan(0);
  });
});
