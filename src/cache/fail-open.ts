// A store that cannot be reached must not take the site down with it: on the request path the
// cache treats a failing store as empty (a miss, nothing stored) and the request goes upstream.
// Purges, which an operator asked for, still report the failure (they use the store directly).
import type { CacheStore, StoredResponse } from './store.ts';

export function failOpen(store: CacheStore, onError: (err: unknown) => void): CacheStore {
  return {
    variants: (primary) => store.variants(primary).catch((err: unknown): StoredResponse[] => { onError(err); return []; }),
    put: (primary, e) => store.put(primary, e).catch((err: unknown) => { onError(err); return false; }),
    delete: (primary) => store.delete(primary).catch((err: unknown) => { onError(err); return 0; }),
    deletePrefix: (prefix) => store.deletePrefix(prefix),
    deleteTag: (tag) => store.deleteTag(tag),
    // Without the shared lock each instance still coalesces its own misses: a failing lock reads as taken by us.
    ...(store.lock === undefined ? {} : {
      lock: (primary: string, ttl: number) => (store.lock as NonNullable<CacheStore['lock']>).call(store, primary, ttl)
        .catch((err: unknown) => { onError(err); return () => Promise.resolve(); }),
      locked: (primary: string) => (store.locked?.(primary) ?? Promise.resolve(false)).catch(() => false),
    }),
    stats: () => store.stats(),
    close: () => store.close(),
  };
}
