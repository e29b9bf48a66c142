import { objectKey, type KubeObject } from '../kube/object.js';

export type IndexFunction<T> = (object: T) => string[];

/**
 * The informer's cache: objects by key, plus named secondary indexes (for example
 * "owner uid" or "mesh name") so controllers map events to keys without scanning.
 */
export class ObjectStore<T extends KubeObject> {
  private readonly objects = new Map<string, T>();
  private readonly indexes = new Map<string, { fn: IndexFunction<T>; entries: Map<string, Set<string>> }>();

  addIndex(name: string, fn: IndexFunction<T>): void {
    const entries = new Map<string, Set<string>>();
    this.indexes.set(name, { fn, entries });
    for (const [key, object] of this.objects) this.indexObject(entries, fn, key, object);
  }

  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  list(): T[] {
    return [...this.objects.values()];
  }

  keys(): string[] {
    return [...this.objects.keys()];
  }

  get size(): number {
    return this.objects.size;
  }

  /** Objects whose index function returned `value`. */
  byIndex(indexName: string, value: string): T[] {
    const index = this.indexes.get(indexName);
    if (!index) throw new Error(`no index named ${indexName}`);
    const keys = index.entries.get(value);
    if (!keys) return [];
    const found: T[] = [];
    for (const key of keys) {
      const object = this.objects.get(key);
      if (object) found.push(object);
    }
    return found;
  }

  /** Stores the object and returns the previous version, if any. */
  upsert(object: T): T | undefined {
    const key = objectKey(object);
    const previous = this.objects.get(key);
    if (previous) this.unindex(key, previous);
    this.objects.set(key, object);
    for (const { fn, entries } of this.indexes.values()) this.indexObject(entries, fn, key, object);
    return previous;
  }

  remove(key: string): T | undefined {
    const previous = this.objects.get(key);
    if (previous) {
      this.unindex(key, previous);
      this.objects.delete(key);
    }
    return previous;
  }

  private indexObject(entries: Map<string, Set<string>>, fn: IndexFunction<T>, key: string, object: T): void {
    for (const value of fn(object)) {
      let keys = entries.get(value);
      if (!keys) entries.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  private unindex(key: string, object: T): void {
    for (const { fn, entries } of this.indexes.values()) {
      for (const value of fn(object)) {
        const keys = entries.get(value);
        keys?.delete(key);
        if (keys?.size === 0) entries.delete(value);
      }
    }
  }
}
