// Sessions in this process: the default, right for one process and for tests. Bounded (a flood of
// new visitors evicts the least recently used sessions instead of growing the heap without end)
// and with a TTL checked on read, so an expired session is never served even before it is swept.
// Several workers or machines each have their own: use the Redis store there.
import { decodeData, encodeData, type SessionData, type SessionStore, type StoredSession } from './session-store.ts';

export interface MemoryStoreOptions {
  /** Most sessions kept; past it the least recently used goes. Default 10 000. */
  max?: number;
}

interface Entry {
  json: string;
  expiresAt: number;
}

export class MemoryStore implements SessionStore {
  readonly inCookie = false;
  readonly #max: number;
  /** Map order is recency order: a read or write moves the entry to the end. */
  readonly #entries = new Map<string, Entry>();

  constructor(options: MemoryStoreOptions = {}) {
    this.#max = options.max ?? 10_000;
    if (!Number.isInteger(this.#max) || this.#max < 1) throw new TypeError('MemoryStore: max must be a positive integer');
  }

  get size(): number {
    return this.#entries.size;
  }

  async get(id: string): Promise<StoredSession | null> {
    const e = this.#entries.get(id);
    if (e === undefined) return null;
    this.#entries.delete(id);
    if (e.expiresAt <= Date.now()) return null;
    this.#entries.set(id, e);
    const data = decodeData(e.json);
    return data === null ? null : { id, data };
  }

  async set(id: string, data: SessionData, ttlMs: number): Promise<string> {
    const json = encodeData(data);
    this.#entries.delete(id);
    this.#entries.set(id, { json, expiresAt: Date.now() + ttlMs });
    this.#evict();
    return id;
  }

  async destroy(id: string): Promise<void> {
    this.#entries.delete(id);
  }

  #evict(): void {
    if (this.#entries.size <= this.#max) return;
    // Expired ones first (oldest-touched first), then the least recently used live ones.
    const now = Date.now();
    for (const [k, e] of this.#entries) {
      if (this.#entries.size <= this.#max) return;
      if (e.expiresAt <= now) this.#entries.delete(k);
    }
    for (const k of this.#entries.keys()) {
      if (this.#entries.size <= this.#max) return;
      this.#entries.delete(k);
    }
  }
}
