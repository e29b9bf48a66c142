import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startControlPlane, type ControlPlane } from '../../test/harness/control-plane.js';
import { eventually } from '../../test/support/wait.js';
import { KubeClient, type WatchEvent, type WatchOptions } from '../kube/client.js';
import { loadClusterConnection } from '../kube/config.js';
import type { KubeObject } from '../kube/object.js';
import { CoreResources, type ResourceType } from '../kube/resources.js';
import { Informer } from './informer.js';

/** A client whose watches wait at a gate, so the test can hold the informer disconnected. */
class GatedClient extends KubeClient {
  gate: Promise<void> = Promise.resolve();
  private openGate: () => void = () => undefined;

  hold(): void {
    this.gate = new Promise((resolve) => (this.openGate = resolve));
  }

  release(): void {
    this.openGate();
  }

  override async *watch<T>(type: ResourceType, namespace: string | undefined, options: WatchOptions = {}): AsyncGenerator<WatchEvent<T>> {
    await this.gate;
    yield* super.watch<T>(type, namespace, options);
  }
}

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

// A control plane of its own: this test restarts kube-apiserver, which the others should not feel.
describe('informer against a real API server: restart and 410 Gone', () => {
  let plane: ControlPlane;
  let dataDir: string;
  let client: GatedClient;
  let writer: KubeClient;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'meshos-informer-'));
    plane = await startControlPlane({ dataDir, components: {} });
    const connection = await loadClusterConnection(plane.kubeconfigPath);
    client = new GatedClient(connection);
    writer = new KubeClient(connection);
    for (const name of ['watched', 'other']) {
      await writer.create(CoreResources.namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
  }, 300_000);

  afterAll(async () => {
    await client?.destroy();
    await writer?.destroy();
    await plane?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const configMap = (namespace: string, name: string, value: string): ConfigMap => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace },
    data: { value },
  });

  it('relists after the API server restarts and the old resourceVersion is gone, without losing a change', async () => {
    await writer.create(CoreResources.configMap, configMap('watched', 'kept', 'v0'));
    await writer.create(CoreResources.configMap, configMap('watched', 'deleted-while-away', 'v0'));
    const informer = new Informer<ConfigMap>(client, CoreResources.configMap, { namespace: 'watched', random: () => 0 });
    const seen: string[] = [];
    informer.addHandlers({
      onAdd: (o) => seen.push(`add ${o.metadata.name}`),
      onUpdate: (_, o) => seen.push(`update ${o.metadata.name}=${o.data?.['value']}`),
      onDelete: (o) => seen.push(`delete ${o.metadata.name}`),
    });
    const stop = new AbortController();
    const running = informer.run(stop.signal);
    await informer.waitForSync();
    expect(informer.store.size).toBe(2);

    // Disconnect the informer, change things while it is away, and restart kube-apiserver so
    // its watch cache starts after the informer's resourceVersion.
    client.hold();
    informer.interruptWatch();
    for (let i = 1; i <= 5; i++) await writer.patch(CoreResources.configMap, 'watched', 'kept', { data: { value: `v${i}` } });
    await writer.delete(CoreResources.configMap, 'watched', 'deleted-while-away');
    await writer.create(CoreResources.configMap, configMap('watched', 'added-while-away', 'v0'));
    for (let i = 0; i < 20; i++) await writer.create(CoreResources.configMap, configMap('other', `noise-${i}`, 'x'));
    await plane.restartApiServer();
    client.release();

    await eventually('informer caught up', () => informer.store.get('watched/kept')?.data?.['value'] === 'v5' && informer.store.size === 2, 60_000);
    expect(informer.store.get('watched/deleted-while-away')).toBeUndefined();
    expect(informer.store.get('watched/added-while-away')).toBeDefined();
    expect(seen).toContain('delete deleted-while-away');
    expect(seen).toContain('add added-while-away');
    expect(informer.stats.goneRelists).toBeGreaterThanOrEqual(1);

    // And it keeps watching afterwards.
    await writer.patch(CoreResources.configMap, 'watched', 'kept', { data: { value: 'after' } });
    await eventually('watch resumed', () => informer.store.get('watched/kept')?.data?.['value'] === 'after');
    stop.abort();
    await running;
  });
});
