import type { KubeClient } from './client.js';
import type { KubeObject } from './object.js';
import { CoreResources, MeshOsResources, apiVersionOf, type ResourceType } from './resources.js';

const knownTypes: ResourceType[] = [...Object.values(CoreResources), ...Object.values(MeshOsResources)];

/** The REST location of a manifest's kind, for the kinds the operator knows. */
export function resourceTypeOf(manifest: { apiVersion?: string; kind?: string }): ResourceType {
  const type = knownTypes.find((t) => apiVersionOf(t) === manifest.apiVersion && t.kind === manifest.kind);
  if (!type) throw new Error(`unsupported kind ${manifest.kind ?? '(none)'} in ${manifest.apiVersion ?? '(no apiVersion)'}`);
  return type;
}

/** Server-side apply of one manifest, as `kubectl apply --server-side` does it. */
export function serverSideApply<T extends KubeObject>(client: KubeClient, manifest: T, fieldManager: string): Promise<T> {
  const type = resourceTypeOf(manifest);
  return client.patch<T>(type, type.namespaced ? manifest.metadata.namespace : undefined, manifest.metadata.name ?? '', manifest, {
    patchType: 'apply',
    fieldManager,
    force: true,
  });
}
