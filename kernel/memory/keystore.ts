// Per-mesh encryption keys. Production keeps them in Secrets `meshos-memory-key-<mesh>`;
// unit tests keep them in memory.
import { randomBytes } from 'node:crypto';
import type { KubeClient } from '../../operator/kube/client.js';
import { isAlreadyExists, isNotFound } from '../../operator/kube/errors.js';
import type { KubeObject } from '../../operator/kube/object.js';
import { CoreResources } from '../../operator/kube/resources.js';
import { KEY_BYTES } from './crypto.js';

export interface KeyStore {
  /** The mesh's 32-byte key, created on first use; the same bytes on every later call, across restarts. */
  keyFor(mesh: string): Promise<Buffer>;
}

/** Keys that live as long as the object: for unit tests and benchmarks. */
export class InMemoryKeyStore implements KeyStore {
  private readonly keys = new Map<string, Buffer>();

  keyFor(mesh: string): Promise<Buffer> {
    let key = this.keys.get(mesh);
    if (key === undefined) {
      key = randomBytes(KEY_BYTES);
      this.keys.set(mesh, key);
    }
    return Promise.resolve(key);
  }
}

interface Secret extends KubeObject {
  type?: string;
  data?: Record<string, string>;
}

export const SECRET_KEY_FIELD = 'key';
export const secretNameFor = (mesh: string): string => `meshos-memory-key-${mesh}`;

/**
 * Keys in Secrets of one namespace: read when present, created with a random key when
 * missing. Two operators racing to create it both end up with the one that won.
 */
export class SecretKeyStore implements KeyStore {
  private readonly keys = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
  ) {}

  keyFor(mesh: string): Promise<Buffer> {
    let key = this.keys.get(mesh);
    if (key === undefined) {
      key = this.load(mesh);
      this.keys.set(mesh, key);
      // A failed load is not cached, so the next call retries.
      key.catch(() => this.keys.delete(mesh));
    }
    return key;
  }

  private async load(mesh: string): Promise<Buffer> {
    const name = secretNameFor(mesh);
    const existing = await this.read(name);
    if (existing !== undefined) return existing;
    const secret: Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name,
        namespace: this.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'meshos', 'meshos.dev/mesh': mesh.slice(0, 63) },
      },
      type: 'Opaque',
      data: { [SECRET_KEY_FIELD]: randomBytes(KEY_BYTES).toString('base64') },
    };
    try {
      return decodeKey(await this.client.create(CoreResources.secret, secret, { fieldManager: 'meshos-memory' }), name);
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      const winner = await this.read(name);
      if (winner === undefined) throw error;
      return winner;
    }
  }

  private async read(name: string): Promise<Buffer | undefined> {
    try {
      return decodeKey(await this.client.get<Secret>(CoreResources.secret, this.namespace, name), name);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}

function decodeKey(secret: Secret, name: string): Buffer {
  const encoded = secret.data?.[SECRET_KEY_FIELD];
  const key = encoded === undefined ? undefined : Buffer.from(encoded, 'base64');
  if (key?.length !== KEY_BYTES) throw new Error(`Secret ${name} has no ${KEY_BYTES}-byte "${SECRET_KEY_FIELD}"`);
  return key;
}
