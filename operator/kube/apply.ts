import type { KubeClient } from './client.js';
import { splitKey, type KubeObject } from './object.js';
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

/**
 * Server-side apply of the fields `fieldManager` owns in an object's status subresource. Other
 * managers' fields (for example another module's condition types) are left as they are.
 */
export function applyStatus(client: KubeClient, type: ResourceType, key: string, status: unknown, fieldManager: string): Promise<KubeObject> {
  const { namespace, name } = splitKey(key);
  const metadata = type.namespaced ? { name, namespace } : { name };
  return client.patch(type, namespace, name, { apiVersion: apiVersionOf(type), kind: type.kind, metadata, status }, {
    patchType: 'apply',
    subresource: 'status',
    fieldManager,
    force: true,
  });
}
