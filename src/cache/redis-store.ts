// A store in Redis, shared by several Portico instances: what one stores, every other one serves,
// and a purge through any instance is seen by all at once (there is no local copy to tell).
// Layout under `prefix`:
//   e:<primary>\0<variant>   the entry: 4-byte meta length, meta JSON, body bytes (one GET per variant)
//   p:<primary>              SET of entry keys (the variants, RFC 9111 §4.1)
//   t:<tag>                  SET of entry keys carrying that tag
//   primaries                ZSET of primary keys, all score 0, so a prefix is one lexical range
//   sizes                    HASH entry key → bytes, for stats
//   l:<primary>              the fetch lock of a primary key (SET NX PX, holder's random token)
// Eviction is Redis's own (`maxmemory` + `allkeys-lru`), plus a TTL per entry; index members whose
// entry is gone are dropped when met.
import { randomUUID } from 'node:crypto';
import { RESP_TYPES, type createClient } from 'redis';
import { entrySize, type CacheStore, type StoredResponse } from './store.ts';

/** What `createClient({ url })` returns (RESP3, no modules or scripts). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- the exact type `createClient({ url })` infers
export type RedisCacheClient = ReturnType<typeof createClient<{}, {}, {}, 3>>;
type Client = RedisCacheClient;

export interface RedisCacheStoreOptions {
  /** A connected client (the caller owns it, its reconnection policy and its closing). */
  client: Client;
  /** Key prefix (default `portico:cache:`), so the cache can share a database. */
  prefix?: string;
  /** Entries expire after this many ms whatever their freshness (default 7 days): Redis is not an archive. */
  ttl?: number;
}

interface Meta extends Omit<StoredResponse, 'body'> {
  primary: string;
}

export class RedisCacheStore implements CacheStore {
  private readonly c: Client;
  /** The same connection, reading bulk strings as Buffers (bodies are bytes, not UTF-8). */
  private readonly bin;
  private readonly p: string;
  private readonly ttl: number;

  constructor(options: RedisCacheStoreOptions) {
    this.c = options.client;
    this.bin = options.client.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
    this.p = options.prefix ?? 'portico:cache:';
    this.ttl = options.ttl ?? 7 * 86_400_000;
  }

  async variants(primary: string): Promise<StoredResponse[]> {
    const keys = await this.c.sMembers(`${this.p}p:${primary}`);
    if (keys.length === 0) return [];
    const values = await this.bin.mGet(keys);
    const out: StoredResponse[] = [];
    const gone: string[] = [];
    values.forEach((v, i) => {
      const e = v === null ? null : decode(v as Buffer);
      if (e === null) gone.push(keys[i]);
      else out.push(e);
    });
    if (gone.length > 0) await this.c.multi().sRem(`${this.p}p:${primary}`, gone).hDel(`${this.p}sizes`, gone).exec();
    return out.sort((a, b) => b.responseTime - a.responseTime);
  }

  async put(primary: string, entry: StoredResponse): Promise<boolean> {
    const key = `${this.p}e:${primary}\0${entry.variant}`;
    const m = this.c.multi()
      .set(key, encode(primary, entry), { expiration: { type: 'PX', value: this.ttl } })
      .sAdd(`${this.p}p:${primary}`, key)
      .zAdd(`${this.p}primaries`, { score: 0, value: primary })
      .hSet(`${this.p}sizes`, key, entrySize(primary, entry));
    for (const tag of entry.tags) m.sAdd(`${this.p}t:${tag}`, key);
    await m.exec();
    return true;
  }

  async delete(primary: string): Promise<number> {
    const keys = await this.c.sMembers(`${this.p}p:${primary}`);
    const n = await this.drop(keys);
    await this.c.multi().del(`${this.p}p:${primary}`).zRem(`${this.p}primaries`, primary).exec();
    return n;
  }

  async deletePrefix(prefix: string): Promise<number> {
    let n = 0;
    // Members sort by bytes, so every primary starting with `prefix` follows `[prefix` contiguously.
    for (;;) {
      const batch = await this.c.zRangeByLex(`${this.p}primaries`, `[${prefix}`, '+', { LIMIT: { offset: 0, count: 256 } });
      const matching = batch.filter((k) => k.startsWith(prefix));
      for (const primary of matching) n += await this.delete(primary);
      if (matching.length < batch.length || batch.length < 256) return n;
    }
  }

  async deleteTag(tag: string): Promise<number> {
    const keys = await this.c.sMembers(`${this.p}t:${tag}`);
    const n = await this.drop(keys);
    await this.c.del(`${this.p}t:${tag}`);
    return n;
  }

  /** One holder at a time, for at most `ttl` ms: a holder that dies frees the key when it expires. */
  async lock(primary: string, ttl: number): Promise<(() => Promise<void>) | null> {
    const key = `${this.p}l:${primary}`;
    const token = randomUUID();
    const taken = await this.c.set(key, token, { condition: 'NX', expiration: { type: 'PX', value: Math.max(1, Math.ceil(ttl)) } });
    if (taken !== 'OK') return null;
    // Only our own token is deleted: past its TTL the key may already be someone else's lock.
    return async () => { await this.c.eval(RELEASE, { keys: [key], arguments: [token] }); };
  }

  async locked(primary: string): Promise<boolean> {
    return (await this.c.exists(`${this.p}l:${primary}`)) === 1;
  }

  async stats(): Promise<{ bytes: number; entries: number }> {
    const sizes = await this.c.hVals(`${this.p}sizes`);
    return { bytes: sizes.reduce((n, s) => n + Number(s), 0), entries: sizes.length };
  }

  /** The client is the caller's: closing the store leaves it open. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Deletes entries; the count is what Redis actually removed (an expired entry is not counted twice). */
  private async drop(keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const [removed] = await this.c.multi().del(keys).hDel(`${this.p}sizes`, keys).exec();
    return Number(removed);
  }
}

const RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

function encode(primary: string, e: StoredResponse): Buffer {
  const { body, ...rest } = e;
  const meta = Buffer.from(JSON.stringify({ ...rest, primary } satisfies Meta));
  const head = Buffer.alloc(4);
  head.writeUInt32BE(meta.byteLength);
  return Buffer.concat([head, meta, body]);
}

/** Null for anything that is not an entry we wrote (a foreign value under our prefix reads as a miss). */
function decode(buf: Buffer): StoredResponse | null {
  if (buf.byteLength < 4) return null;
  const len = buf.readUInt32BE(0);
  if (4 + len > buf.byteLength) return null;
  try {
    const { primary: _primary, ...meta } = JSON.parse(buf.subarray(4, 4 + len).toString('utf8')) as Meta;
    return { ...meta, body: buf.subarray(4 + len) };
  } catch {
    return null;
  }
}
