// Sessions in Redis, shared by every worker and machine. One key per session, `SET … PX ttl`, so
// Redis itself expires them (no sweeper) and a destroyed or expired session is gone for all
// readers at once. The client is the caller's (`createClient()` from the `redis` package,
// connected): the app owns its connection, reconnection policy and shutdown. Make it with
// `disableOfflineQueue: true`: otherwise, while Redis is down, commands wait in the client's queue
// and requests hang instead of failing at once with a 500.
import { decodeData, encodeData, type SessionData, type SessionStore, type StoredSession } from './session-store.ts';

/** The three commands used; a `redis` v5+ client fits. */
export interface RedisLike {
  get(key: string): Promise<string | null | unknown>;
  set(key: string, value: string, options: { expiration: { type: 'PX'; value: number } }): Promise<unknown>;
  del(key: string): Promise<unknown>;
}

export interface RedisStoreOptions {
  client: RedisLike;
  /** Key prefix, so sessions share a database with other data safely. Default 'sess:'. */
  prefix?: string;
}

export class RedisStore implements SessionStore {
  readonly inCookie = false;
  readonly #client: RedisLike;
  readonly #prefix: string;

  constructor(options: RedisStoreOptions) {
    this.#client = options.client;
    this.#prefix = options.prefix ?? 'sess:';
  }

  async get(id: string): Promise<StoredSession | null> {
    const json = await this.#client.get(this.#prefix + id);
    if (typeof json !== 'string') return null;
    const data = decodeData(json);
    return data === null ? null : { id, data };
  }

  async set(id: string, data: SessionData, ttlMs: number): Promise<string> {
    await this.#client.set(this.#prefix + id, encodeData(data), { expiration: { type: 'PX', value: Math.max(1, Math.ceil(ttlMs)) } });
    return id;
  }

  async destroy(id: string): Promise<void> {
    await this.#client.del(this.#prefix + id);
  }
}
