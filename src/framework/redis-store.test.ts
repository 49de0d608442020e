// The Redis store against a real redis-server this file starts on a loopback port and stops.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { RedisStore } from './redis-store.ts';
import { sessionApp, sessionConformance, sid } from './session-conformance.ts';
import { startRedis, type RedisServer } from '../../test/helpers/redis-server.ts';

let server: RedisServer;
let client: ReturnType<typeof createClient>;
let n = 0;

before(async () => {
  server = await startRedis();
  client = createClient({ url: server.url });
  await client.connect();
});

after(async () => {
  await client?.close();
  await server?.stop();
});

// A prefix per store: cases cannot see each other's keys.
sessionConformance('redis', () => new RedisStore({ client, prefix: `t${++n}:` }));

test('redis store: one key per session under the prefix, with a TTL Redis enforces', async () => {
  const app = sessionApp(new RedisStore({ client, prefix: 'shop:' }), { maxAge: 120 });
  const cookie = sid(await app.request('/login', { method: 'POST' }));
  const keys = await client.keys('shop:*');
  assert.equal(keys.length, 1);
  assert.deepEqual(JSON.parse((await client.get(keys[0]))!), { user: 'ada' });
  const ttl = await client.pTTL(keys[0]);
  assert.ok(ttl > 110_000 && ttl <= 120_000, `TTL ${ttl}`);
  await app.request('/logout', { method: 'POST', headers: { cookie } });
  assert.deepEqual(await client.keys('shop:*'), []);
});

test('redis store: two apps (two machines) share sessions', async () => {
  const store = (): RedisStore => new RedisStore({ client, prefix: 'shared:' });
  const cookie = sid(await sessionApp(store()).request('/login', { method: 'POST' }));
  const other = await sessionApp(store()).request('/me', { headers: { cookie } });
  assert.equal((await other.json()).user, 'ada');
});

test('redis store: a value that is not a JSON object reads as no session', async () => {
  await client.set('junk:x', 'not json');
  await client.set('junk:y', '[1,2]');
  const store = new RedisStore({ client, prefix: 'junk:' });
  assert.equal(await store.get('x'), null);
  assert.equal(await store.get('y'), null);
});

test('redis store: with Redis down, requests fail fast with a 500 (client made with disableOfflineQueue)', async () => {
  const own = await startRedis();
  const c = createClient({ url: own.url, disableOfflineQueue: true });
  const errors: unknown[] = [];
  c.on('error', (err) => errors.push(err)); // reconnect attempts report here
  await c.connect();
  const original = console.error;
  console.error = () => {};
  try {
    const app = sessionApp(new RedisStore({ client: c }));
    const cookie = sid(await app.request('/login', { method: 'POST' }));
    await own.stop();
    const started = Date.now();
    const down = await app.request('/me', { headers: { cookie } });
    assert.equal(down.status, 500);
    assert.ok(Date.now() - started < 2_000, 'no request hangs waiting for Redis to come back');
    assert.equal((await down.json()).error.code, 'INTERNAL');
  } finally {
    console.error = original;
    c.destroy();
  }
});
