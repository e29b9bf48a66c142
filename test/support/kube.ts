import { inject } from 'vitest';
import { KubeClient } from '../../operator/kube/client.js';
import { loadClusterConnection } from '../../operator/kube/config.js';
import { isAlreadyExists, isNotFound } from '../../operator/kube/errors.js';
import { CoreResources } from '../../operator/kube/resources.js';

/** A REST client for the integration control plane (admin credentials). */
export async function testClient(): Promise<KubeClient> {
  return new KubeClient(await loadClusterConnection(inject('kubeconfigPath')), { qps: 1000, burst: 2000 });
}

/** Creates a namespace with a unique name for one test file. */
export async function createTestNamespace(client: KubeClient, prefix: string): Promise<string> {
  const name = `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e4)}`;
  try {
    await client.create(CoreResources.namespace, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
  }
  return name;
}

export async function deleteNamespace(client: KubeClient, name: string): Promise<void> {
  try {
    await client.delete(CoreResources.namespace, undefined, name);
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}
