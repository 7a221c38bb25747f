// Values derived from hook text (compiled transforms, parsed path templates): hooks are few and
// events many, so each source text is parsed once and kept, up to a bound against churn.
import { LruCache } from '../lru-cache.js';

const ENTRIES = 1000;

export function hookTextCache<V>(): LruCache<V> {
  return new LruCache<V>(ENTRIES);
}
