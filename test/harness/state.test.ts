import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseState, readState, serializeState, StateFileError, statePath, withComponent, writeState, type ControlPlaneState } from './state.js';

function sampleState(dataDir: string): ControlPlaneState {
  return {
    version: 1,
    dataDir,
    kubeconfigPath: join(dataDir, 'kubeconfig'),
    kubectlPath: '/cache/bin/kubectl-v1.36.3',
    server: 'https://127.0.0.1:40000',
    ports: { etcdClient: 40001, etcdPeer: 40002, apiServer: 40000, scheduler: 40003 },
    versions: { kubernetes: 'v1.36.3', etcd: 'v3.6.16', kwok: 'v0.8.0' },
    ownerPid: 4242,
    detached: true,
    running: true,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    components: [
      { name: 'etcd', pid: 100, binary: '/cache/bin/etcd-v3.6.16', args: ['--name=meshos'], logPath: join(dataDir, 'logs/etcd.log'), startedAt: '2026-01-01T00:00:00.000Z' },
    ],
  };
}

describe('state file', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshos-state-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('round-trips through serialize and parse', () => {
    const state = sampleState(dir);
    expect(parseState(serializeState(state))).toEqual(state);
  });

  it('names the bad field', () => {
    const broken = JSON.parse(serializeState(sampleState(dir))) as { components: { pid: unknown }[]; ports: Record<string, unknown> };
    broken.components[0]!.pid = 'x';
    expect(() => parseState(JSON.stringify(broken))).toThrow(/state\.components\[0\]\.pid/);
    const badPort = JSON.parse(serializeState(sampleState(dir))) as { ports: Record<string, unknown> };
    badPort.ports['apiServer'] = 70000;
    expect(() => parseState(JSON.stringify(badPort))).toThrow(/state\.ports\.apiServer/);
    expect(() => parseState('not json')).toThrow(StateFileError);
    expect(() => parseState('{"version":2}')).toThrow(/version 2/);
  });

  it('reads nothing when there is no file, and what was written when there is', async () => {
    expect(await readState(join(dir, 'missing'))).toBeUndefined();
    const state = sampleState(dir);
    await writeState(state);
    const read = await readState(dir);
    expect(read).toEqual({ ...state, updatedAt: read?.updatedAt });
    await writeFile(statePath(dir), '{');
    await expect(readState(dir)).rejects.toThrow(StateFileError);
  });

  it('replaces a component in place and keeps start order', () => {
    const state = sampleState(dir);
    const withKwok = withComponent(state, { name: 'kwok', pid: 5, binary: '/k', args: [], logPath: '/l', startedAt: 't' });
    const withApi = withComponent(withKwok, { name: 'kube-apiserver', pid: 6, binary: '/a', args: [], logPath: '/l', startedAt: 't' });
    expect(withApi.components.map((c) => c.name)).toEqual(['etcd', 'kube-apiserver', 'kwok']);
    const restarted = withComponent(withApi, { name: 'kube-apiserver', pid: 7, binary: '/a', args: [], logPath: '/l', startedAt: 't2' });
    expect(restarted.components.map((c) => [c.name, c.pid])).toEqual([
      ['etcd', 100],
      ['kube-apiserver', 7],
      ['kwok', 5],
    ]);
  });
});
