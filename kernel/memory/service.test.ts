import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryKeyStore } from './keystore.js';
import { ContextMemory, MemoryError } from './service.js';

const low = { id: 'low', trustScore: 30 };
const high = { id: 'high', trustScore: 90 };

async function rejection(promise: Promise<unknown> | (() => unknown)): Promise<MemoryError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (error instanceof MemoryError) return error;
    throw error;
  }
  throw new Error('expected a MemoryError');
}

describe('ContextMemory', () => {
  let dir: string;
  let now: number;
  const keyStore = new InMemoryKeyStore();
  const openMemory = () => ContextMemory.open({ dataDir: dir, keyStore, clock: () => now, maxValueBytes: 64 });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshos-memory-service-'));
    now = 1_000_000;
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lets readers at or above the level read, and denies the others naming the level', async () => {
    const memory = await openMemory();
    await memory.put(high, { mesh: 'mesh-a', key: 'plan', value: Buffer.from('secret plan'), trustLevel: 70, ttlSeconds: 0 });
    expect((await memory.get(high, 'mesh-a', 'plan')).value.toString()).toBe('secret plan');
    const denied = await rejection(memory.get(low, 'mesh-a', 'plan'));
    expect(denied.code).toBe('PERMISSION_DENIED');
    expect(denied.message).toMatch(/trust level 70/);
    expect((await rejection(memory.get(high, 'mesh-a', 'missing'))).code).toBe('NOT_FOUND');
    expect((await rejection(memory.delete(low, 'mesh-a', 'plan'))).code).toBe('PERMISSION_DENIED');
    await memory.close();
  });

  it('refuses writes above the writer trust and overwrites of entries it cannot read', async () => {
    const memory = await openMemory();
    expect((await rejection(memory.put(low, { mesh: 'm', key: 'k', value: Buffer.from('x'), trustLevel: 50, ttlSeconds: 0 }))).code).toBe('PERMISSION_DENIED');
    await memory.put(high, { mesh: 'm', key: 'k', value: Buffer.from('x'), trustLevel: 80, ttlSeconds: 0 });
    expect((await rejection(memory.put(low, { mesh: 'm', key: 'k', value: Buffer.from('y'), trustLevel: 0, ttlSeconds: 0 }))).code).toBe('PERMISSION_DENIED');
    await memory.close();
  });

  it('answers bad input with INVALID_ARGUMENT naming the field', async () => {
    const memory = await openMemory();
    const base = { mesh: 'm', key: 'k', value: Buffer.from('x'), trustLevel: 0, ttlSeconds: 0 };
    const cases: [Partial<typeof base>, string][] = [
      [{ mesh: '' }, 'mesh'],
      [{ mesh: 'Not_A_Label' }, 'mesh'],
      [{ key: '' }, 'key'],
      [{ trustLevel: 101 }, 'trust_level'],
      [{ trustLevel: -1 }, 'trust_level'],
      [{ ttlSeconds: -5 }, 'ttl_seconds'],
      [{ value: Buffer.alloc(65) }, 'value'],
    ];
    for (const [change, field] of cases) {
      const error = await rejection(memory.put(high, { ...base, ...change }));
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message.startsWith(`${field}:`)).toBe(true);
    }
    expect((await rejection(() => memory.list(high, { mesh: 'm', prefix: '', pageSize: 5000, pageToken: '' }))).message).toMatch(/^page_size/);
    await memory.close();
  });

  it('expires entries by TTL and does not bring them back on restart', async () => {
    const memory = await openMemory();
    const { expiresAt } = await memory.put(low, { mesh: 'm', key: 'short', value: Buffer.from('x'), trustLevel: 0, ttlSeconds: 10 });
    expect(expiresAt).toBe(now + 10_000);
    await memory.put(low, { mesh: 'm', key: 'long', value: Buffer.from('y'), trustLevel: 0, ttlSeconds: 0 });
    now += 10_000;
    expect((await rejection(memory.get(low, 'm', 'short'))).code).toBe('NOT_FOUND');
    expect(memory.sweep()).toBe(0);
    await memory.close();
    const reopened = await openMemory();
    expect(reopened.entryCount).toBe(1);
    expect((await reopened.get(low, 'm', 'long')).value.toString()).toBe('y');
    await reopened.close();
  });

  it('survives a restart and keeps only ciphertext on disk', async () => {
    const memory = await openMemory();
    await memory.put(high, { mesh: 'm', key: 'a', value: Buffer.from('plaintext-marker-1'), trustLevel: 60, ttlSeconds: 0 });
    await memory.put(high, { mesh: 'm', key: 'b', value: Buffer.from('plaintext-marker-2'), trustLevel: 10, ttlSeconds: 0 });
    await memory.delete(high, 'm', 'b');
    await memory.close();
    const onDisk = await readFile(join(dir, 'memory.log'));
    expect(onDisk.includes('plaintext-marker')).toBe(false);
    expect(onDisk.includes(Buffer.from('plaintext-marker').toString('base64').slice(0, 12))).toBe(false);
    const reopened = await openMemory();
    const entry = await reopened.get(high, 'm', 'a');
    expect(entry).toMatchObject({ trustLevel: 60, writer: 'high' });
    expect(entry.value.toString()).toBe('plaintext-marker-1');
    expect((await rejection(reopened.get(high, 'm', 'b'))).code).toBe('NOT_FOUND');
    await reopened.close();
  });

  it('replays evictions so a restart does not resurrect evicted entries', async () => {
    const bands = [
      { name: 'low', minTrust: 0, maxTrust: 49, quotaBytes: 100 },
      { name: 'high', minTrust: 50, maxTrust: 100, quotaBytes: 1000 },
    ];
    const memory = await ContextMemory.open({ dataDir: dir, keyStore, clock: () => now, bands });
    for (const key of ['a', 'b', 'c']) await memory.put(low, { mesh: 'm', key, value: Buffer.alloc(30), trustLevel: 0, ttlSeconds: 0 });
    expect(memory.entryCount).toBe(1);
    await memory.close();
    const reopened = await ContextMemory.open({ dataDir: dir, keyStore, clock: () => now, bands });
    expect(reopened.list(low, { mesh: 'm', prefix: '', pageSize: 0, pageToken: '' }).entries.map((entry) => entry.key)).toEqual(['c']);
    await reopened.close();
  });

  it('lists only readable keys, paged', async () => {
    const memory = await openMemory();
    for (const [key, trustLevel] of [['t/1', 0], ['t/2', 80], ['t/3', 10], ['t/4', 20], ['u/1', 0]] as const) {
      await memory.put(high, { mesh: 'm', key, value: Buffer.from('v'), trustLevel, ttlSeconds: 0 });
    }
    const first = memory.list(low, { mesh: 'm', prefix: 't/', pageSize: 2, pageToken: '' });
    expect(first.entries.map((entry) => entry.key)).toEqual(['t/1', 't/3']);
    expect(first.entries[0]?.sizeBytes).toBe(1);
    const second = memory.list(low, { mesh: 'm', prefix: 't/', pageSize: 2, pageToken: first.nextPageToken });
    expect(second.entries.map((entry) => entry.key)).toEqual(['t/4']);
    expect(second.nextPageToken).toBe('');
    expect(memory.list(high, { mesh: 'm', prefix: 't/', pageSize: 0, pageToken: '' }).entries).toHaveLength(4);
    await memory.close();
  });
});
