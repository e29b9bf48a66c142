import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  binaryPath,
  binaryVersion,
  checkGoVersion,
  ensureBinaries,
  GoToolchainError,
  kwokStagesPath,
  missingGoMessage,
  parseGoVersion,
  VERSIONS,
  type BinaryProgress,
} from './binaries.js';

describe('versions and paths', () => {
  it('keys cached binaries by name and pinned version', () => {
    expect(binaryVersion('kube-apiserver')).toBe(VERSIONS.kubernetes);
    expect(binaryVersion('kubectl')).toBe(VERSIONS.kubernetes);
    expect(binaryVersion('etcd')).toBe(VERSIONS.etcd);
    expect(binaryPath('kube-apiserver', '/cache')).toBe(`/cache/bin/kube-apiserver-${VERSIONS.kubernetes}`);
    expect(binaryPath('kwok', '/cache')).toBe('/cache/bin/kwok-v0.8.0');
    expect(VERSIONS.kubernetes).toBe('v1.36.3');
    expect(VERSIONS.etcd).toMatch(/^v3\.6\.\d+$/);
  });
});

describe('go toolchain checks', () => {
  it('names go, the minimum version, what it builds and where to get it', () => {
    const message = missingGoMessage(['kube-apiserver', 'etcd'], '/home/me/.cache/meshos');
    expect(message).toMatch(/^go \(the Go toolchain, 1\.26 or newer\) is required to build kube-apiserver, etcd/);
    expect(message).toContain('https://go.dev/dl/');
    expect(message).toContain('/home/me/.cache/meshos/bin');
  });

  it('parses go versions', () => {
    expect(parseGoVersion('go1.26.8')).toEqual([1, 26, 8]);
    expect(parseGoVersion('go1.26')).toEqual([1, 26, 0]);
    expect(parseGoVersion('devel go1.27-abc')).toBeUndefined();
  });

  it('accepts 1.26+, lets 1.21+ switch toolchains, rejects older or pinned-local ones', () => {
    expect(checkGoVersion('go1.26.8', 'auto', ['etcd'])).toBeUndefined();
    expect(checkGoVersion('go1.27.0', 'local', ['etcd'])).toBeUndefined();
    expect(checkGoVersion('go1.24.3', 'auto', ['etcd'])).toBeUndefined();
    expect(checkGoVersion('go1.24.3', 'local', ['etcd'])).toMatch(/go 1\.26 or newer is required to build etcd; found go1\.24\.3 with GOTOOLCHAIN=local/);
    expect(checkGoVersion('go1.19.1', 'auto', ['etcd'])).toMatch(/found go1\.19\.1\./);
  });
});

describe('ensureBinaries', () => {
  let cache: string;
  beforeEach(async () => {
    cache = await mkdtemp(join(tmpdir(), 'meshos-binaries-test-'));
  });
  afterEach(async () => {
    await rm(cache, { recursive: true, force: true });
  });

  it('returns cached binaries without calling go', async () => {
    await mkdir(join(cache, 'bin'), { recursive: true });
    for (const name of ['etcd', 'kubectl'] as const) {
      await writeFile(binaryPath(name, cache), '#!/bin/sh\n');
      await chmod(binaryPath(name, cache), 0o755);
    }
    const events: BinaryProgress[] = [];
    // An empty PATH proves go is never looked up.
    const paths = await ensureBinaries(['etcd', 'kubectl'], { cacheDir: cache, env: { PATH: '' }, onProgress: (event) => events.push(event) });
    expect(paths).toEqual({ etcd: binaryPath('etcd', cache), kubectl: binaryPath('kubectl', cache) });
    expect(events.map((event) => [event.kind, event.names])).toEqual([
      ['cached', ['etcd']],
      ['cached', ['kubectl']],
    ]);
  });

  it('treats kwok without its stage file as missing', async () => {
    await mkdir(join(cache, 'bin'), { recursive: true });
    await writeFile(binaryPath('kwok', cache), '#!/bin/sh\n');
    await chmod(binaryPath('kwok', cache), 0o755);
    await expect(ensureBinaries(['kwok'], { cacheDir: cache, env: { PATH: '' } })).rejects.toThrow(GoToolchainError);
    await mkdir(join(kwokStagesPath(cache), '..'), { recursive: true });
    await writeFile(kwokStagesPath(cache), 'kind: Stage\n');
    await expect(ensureBinaries(['kwok'], { cacheDir: cache, env: { PATH: '' } })).resolves.toEqual({ kwok: binaryPath('kwok', cache) });
  });

  it('fails with the missing-go message when something must be built and go is not on PATH', async () => {
    const attempt = ensureBinaries(['kube-apiserver'], { cacheDir: cache, env: { PATH: '/nonexistent' } });
    await expect(attempt).rejects.toThrow(GoToolchainError);
    await expect(attempt).rejects.toThrow(/go \(the Go toolchain, 1\.26 or newer\) is required to build kube-apiserver/);
  });
});
