// One real redis-server per test file (test/helpers/redis-server.ts) and the clients the file's
// tests open on it, all closed after the file: shared by the Redis cache test files.
import { after, before } from 'node:test';
import { createClient } from 'redis';
import { startRedis, type RedisServer } from '../../test/helpers/redis-server.ts';
import type { RedisCacheClient } from './redis-store.ts';

export function useRedisServer(): { client(): Promise<RedisCacheClient> } {
  let server: RedisServer;
  const clients: RedisCacheClient[] = [];
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    for (const c of clients) await c.close();
    await server?.stop();
  });
  return {
    async client() {
      const c = createClient({ url: server.url });
      await c.connect();
      clients.push(c);
      return c;
    },
  };
}
