import type * as k8s from "@kubernetes/client-node";

/** The key an object is cached under: "namespace/name" (client-go's MetaNamespaceKeyFunc). */
export function keyOf(object: k8s.KubernetesObject): string {
  return `${object.metadata?.namespace ?? ""}/${object.metadata?.name ?? ""}`;
}

/**
 * An informer's cache: objects by key, and filed under one key of the caller's (`indexBy`) for
 * lookups without a scan: client-go's Indexer, with one index. Only its informer's loop writes it.
 */
export class IndexedStore<T extends k8s.KubernetesObject> {
  private readonly objects = new Map<string, T>();
  /** indexBy's key → the objects filed under it, by cache key. */
  private readonly index = new Map<string, Map<string, T>>();

  constructor(private readonly indexBy: ((object: T) => string | undefined) | undefined) {}

  get size(): number {
    return this.objects.size;
  }

  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  values(): IterableIterator<T> {
    return this.objects.values();
  }

  entries(): IterableIterator<[string, T]> {
    return this.objects.entries();
  }

  /** The objects indexBy files under `indexKey`. */
  byIndex(indexKey: string): T[] {
    return [...(this.index.get(indexKey)?.values() ?? [])];
  }

  /** Caches `object` under `key`, keeping the index in step; returns what it replaced. */
  store(key: string, object: T): T | undefined {
    const old = this.objects.get(key);
    if (old !== undefined) this.unindex(key, old);
    this.objects.set(key, object);
    const indexKey = this.indexBy?.(object);
    if (indexKey !== undefined) {
      let bucket = this.index.get(indexKey);
      if (!bucket) this.index.set(indexKey, (bucket = new Map<string, T>()));
      bucket.set(key, object);
    }
    return old;
  }

  /** Drops the object under `key`; returns it, if there was one. */
  remove(key: string): T | undefined {
    const old = this.objects.get(key);
    if (old === undefined) return undefined;
    this.objects.delete(key);
    this.unindex(key, old);
    return old;
  }

  private unindex(key: string, object: T): void {
    const indexKey = this.indexBy?.(object);
    if (indexKey === undefined) return;
    const bucket = this.index.get(indexKey);
    bucket?.delete(key);
    if (bucket?.size === 0) this.index.delete(indexKey);
  }
}
