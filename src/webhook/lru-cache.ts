// A small bounded cache for values derived from hook text (compiled transforms, parsed path
// templates): hooks are few and events many, so each source text is parsed once and kept.

/** A Map that forgets its least recently used entry past `limit`: Map iteration order is insertion order. */
export class LruCache<V> {
  private readonly entries = new Map<string, V>();
  constructor(private readonly limit: number) {}

  get(key: string): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.entries.set(key, value);
    if (this.entries.size > this.limit) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}

/** Entries kept per cache of parsed hook text. */
export const HOOK_TEXT_CACHE_LIMIT = 1000;
