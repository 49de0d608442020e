// The cache's public surface: the layer, its stores, and the factory from resolved config.
import { createClient } from 'redis';
import type { ResolvedCache } from '../config/resolved.ts';
import { HttpCache } from './http-cache.ts';
import { MemoryStore } from './memory-store.ts';
import { RedisCacheStore } from './redis-store.ts';
import type { CacheStore } from './store.ts';
import { purgeGuard } from './purge-method.ts';

export { HttpCache, type HttpCacheOptions, type CacheCounters, type PurgeRequest, type WrapOptions } from './http-cache.ts';
export { MemoryStore } from './memory-store.ts';
export { RedisCacheStore } from './redis-store.ts';
export type { CacheStore, StoredResponse } from './store.ts';

export interface CacheFactoryOptions {
  now?: () => number;
  /** Where store failures are reported (at most one line per 10 s: a down Redis fails every request). */
  warn?: (message: string, fields: Record<string, unknown>) => void;
}

export function createHttpCache(c: ResolvedCache, options: CacheFactoryOptions = {}): HttpCache {
  let last = 0;
  const onStoreError = (err: unknown) => {
    const now = Date.now();
    if (now - last < 10_000) return;
    last = now;
    options.warn?.('cache store failing; serving as misses', { store: c.store, err: (err as Error).message });
  };
  let store: CacheStore;
  let onClose: (() => Promise<void>) | undefined;
  if (c.store === 'redis' && c.redis !== undefined) {
    // disableOfflineQueue: while Redis is down, commands fail at once (→ a miss) instead of queueing behind the reconnect.
    const client = createClient({ url: c.redis.url, disableOfflineQueue: true });
    client.on('error', onStoreError);
    client.connect().catch(onStoreError);
    store = new RedisCacheStore({ client, ...(c.redis.prefix === undefined ? {} : { prefix: c.redis.prefix }), ...(c.redis.ttl === undefined ? {} : { ttl: c.redis.ttl }) });
    onClose = async () => { if (client.isOpen) await client.close(); };
  } else {
    store = new MemoryStore({ maxBytes: c.maxBytes });
  }
  return new HttpCache({
    store,
    maxObjectBytes: c.maxObjectBytes,
    heuristic: { fraction: c.heuristicFraction, max: c.maxHeuristic },
    coalesceTimeout: c.coalesceTimeout,
    grace: c.grace,
    keyHeaders: c.keyHeaders,
    onStoreError,
    ...(c.purge === undefined ? {} : { purge: purgeGuard(c.purge) }),
    ...(onClose === undefined ? {} : { onClose }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
}
