// What a cache store keeps and the one interface every store implements (in memory, Redis…).
// A store knows nothing of HTTP rules: it keeps variants under a primary key (RFC 9111 §4.1)
// and forgets what it must; store-conformance.ts holds the suite every store passes.
import type { ResponseHeaders } from '../http/types.ts';

export interface StoredResponse {
  /** The secondary key: the request's values of the fields named by `Vary` (see cache-key.ts). */
  readonly variant: string;
  /** Lowercased field names from the response's `Vary`, in order. */
  readonly vary: readonly string[];
  /** The selecting request's values of those fields (normalised), for matching later requests. */
  readonly varyValues: Readonly<Record<string, string>>;
  status: number;
  headers: ResponseHeaders;
  body: Uint8Array;
  /** ms since the epoch (the cache's clock) when the request was sent and the response received (RFC 9111 §4.2.3). */
  requestTime: number;
  responseTime: number;
  /** Tags from `Cache-Tag` / `Surrogate-Key`, for purges by tag. */
  readonly tags: readonly string[];
  /** Set when a HEAD response disagreed with it (RFC 9111 §4.3.5): stale from then on, validated before reuse. */
  readonly invalidated?: true;
}

export interface CacheStore {
  /** Every stored variant under a primary key, most recently stored first. */
  variants(primary: string): Promise<StoredResponse[]>;
  /** Stores a response, replacing the one with the same primary key and variant. False when it is too big to keep. */
  put(primary: string, entry: StoredResponse): Promise<boolean>;
  /** Forgets every variant under a primary key (RFC 9111 §4.4); resolves to the number removed. */
  delete(primary: string): Promise<number>;
  /** Forgets every primary key that starts with `prefix`. */
  deletePrefix(prefix: string): Promise<number>;
  /** Forgets every response tagged `tag`. */
  deleteTag(tag: string): Promise<number>;
  /**
   * Optional, for stores shared by several instances: takes the fetch lock of a primary key for
   * `ttl` ms, so concurrent misses on different instances make one upstream request. Resolves to
   * the function that gives it back, or null when another holder has it (coalesce-lock.ts).
   */
  lock?(primary: string, ttl: number): Promise<(() => Promise<void>) | null>;
  /** Whether anyone holds the fetch lock of a primary key (present with `lock`). */
  locked?(primary: string): Promise<boolean>;
  /** Bytes held and entries held, for status and tests. */
  stats(): Promise<{ bytes: number; entries: number }>;
  close(): Promise<void>;
}

/** The bytes an entry costs: body plus a fair estimate of its head, so many tiny objects are bounded too. */
export function entrySize(primary: string, e: StoredResponse): number {
  let size = e.body.byteLength + primary.length + e.variant.length + 64;
  for (const name in e.headers) {
    const v = e.headers[name];
    size += name.length + (Array.isArray(v) ? v.reduce((n, s) => n + s.length + 2, 0) : v.length) + 4;
  }
  return size;
}
