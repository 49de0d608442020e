// Coalescing across instances that share a store (Redis): the instance whose miss takes the
// store's fetch lock fetches; the others poll the store until the response appears there, the
// lock is given back without one (not storable: they fetch themselves), or the coalescing
// timeout passes. Within one instance flight.ts still coalesces without any round trip.
import type { PorticoRequest } from '../http/types.ts';
import { varyMatches } from './cache-key.ts';
import type { EntryFacts } from './entry-facts.ts';
import type { CacheStore, StoredResponse } from './store.ts';
import type { FlightKey } from './flight.ts';

/** How often a waiting instance looks again: a store round trip or two per interval and waiter. */
export const POLL_MS = 20;

export interface RemoteWait {
  store: CacheStore;
  facts: EntryFacts;
  /** The cache's clock, for the entry's age. */
  now: () => number;
  /** Real time bound of the wait (ms), whatever clock the cache runs on. */
  timeout: number;
}

/**
 * The response another instance stored for this request, fresh enough to serve as it is; null
 * when the caller must fetch it itself.
 */
export async function awaitRemote(w: RemoteWait, key: FlightKey, req: PorticoRequest): Promise<StoredResponse | null> {
  const deadline = performance.now() + w.timeout;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_MS, Math.max(0, deadline - performance.now()))));
    // Lock first, then the store: a lock seen free after the holder stored means the entry is there.
    const held = await w.store.locked?.(key.flight) ?? false;
    const found = (await w.store.variants(key.primary)).find((v) => varyMatches(v.vary, v.varyValues, req.headers));
    if (found !== undefined) return w.facts.of(found).lifetime > w.facts.age(found, w.now()) ? found : null;
    if (!held || performance.now() >= deadline) return null;
  }
}
