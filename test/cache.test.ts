// The cache in the whole stack, on real sockets: a route with `cache`, coalescing across real
// client connections, and stale content standing in when every backend is down.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { scriptedServer, type Scripted } from './helpers/servers.ts';
import { startStack, type TestStack } from './helpers/stack.ts';

const cleanups: (() => Promise<void>)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

async function cachedProxy(upstream: Scripted, cache: unknown = true): Promise<TestStack> {
  const s = await startStack({ pools: { web: { servers: [{ url: upstream.url }] } }, routes: [{ path: '/', upstream: 'web', cache } as never] });
  cleanups.push(() => s.close(), () => upstream.close());
  return s;
}

test('a cached route serves the second request from the cache, with Cache-Status, X-Cache, Age and Server-Timing', async () => {
  let calls = 0;
  const up = await scriptedServer((req, res) => { calls++; res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' }); res.end('hello'); });
  const s = await cachedProxy(up);
  const first = await request(`${s.url}/a`);
  assert.equal(await first.body.text(), 'hello');
  assert.equal(first.headers['x-cache'], 'MISS');
  const second = await request(`${s.url}/a`);
  assert.equal(await second.body.text(), 'hello');
  assert.equal(second.headers['x-cache'], 'HIT');
  assert.match(String(second.headers['cache-status']), /^portico; hit; ttl=\d+$/);
  assert.match(String(second.headers['age']), /^\d+$/);
  assert.match(String(second.headers['server-timing']), /cache;desc=hit/);
  assert.equal(calls, 1);
  assert.deepEqual(s.stack.status().caches, { [s.stack.routes()[0].name]: { hit: 1, miss: 1, stale: 0, revalidated: 0, pass: 0, coalesced: 0 } });
  const stages = s.stack.routes()[0].stages.map((st) => st.name);
  assert.deepEqual(stages.slice(stages.indexOf('cache'), stages.indexOf('cache') + 2), ['cache', 'proxy']);
});

test('100 concurrent client misses through the stack make exactly 1 upstream request', async () => {
  let calls = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => { release = r; });
  const up = await scriptedServer(async (req, res) => {
    calls++;
    res.writeHead(200, { 'cache-control': 'max-age=60' });
    res.write('x'.repeat(1000));
    await gate;
    res.end('end');
  });
  const s = await cachedProxy(up);
  // Every response head arrives while the upstream body is still open (the gate holds its end),
  // so each request was either the one fetch or coalesced onto it: none can be a plain hit.
  const responses = await Promise.all(Array.from({ length: 100 }, () => request(`${s.url}/hot`)));
  assert.equal(responses.filter((r) => String(r.headers['cache-status']).endsWith('; collapsed')).length, 99);
  release();
  const texts = await Promise.all(responses.map((r) => r.body.text()));
  for (const t of texts) assert.equal(t, 'x'.repeat(1000) + 'end');
  assert.equal(calls, 1);
});

test('RFC 5861 / grace: when every backend is down, stale content is served', async () => {
  const up = await scriptedServer((req, res) => { res.writeHead(200, { 'cache-control': 'max-age=0', etag: '"v1"' }); res.end('cached'); });
  const s = await cachedProxy(up, { grace: '1m' });
  assert.equal(await (await request(`${s.url}/page`)).body.text(), 'cached');
  await up.close();
  const r = await request(`${s.url}/page`);
  assert.equal(r.statusCode, 200);
  assert.equal(await r.body.text(), 'cached');
  assert.equal(r.headers['x-cache'], 'STALE');
  assert.match(String(r.headers['cache-status']), /fwd=stale; fwd-status=50\d; detail=stale-if-error/);
});

test('admin API: POST /cache/purge forgets a URL (then a tag), and a bad body gets a 400 that says why', async () => {
  let calls = 0;
  const up = await scriptedServer((req, res) => { calls++; res.writeHead(200, { 'cache-control': 'max-age=600', 'cache-tag': 'home' }); res.end(`v${calls}`); });
  const s = await cachedProxy(up);
  const { startAdminServer, adminAddress } = await import('../src/admin/admin-server.ts');
  const admin = await startAdminServer({ host: '127.0.0.1', port: 0 }, {
    status: () => ({}), routes: () => [], reload: () => Promise.resolve({}), purgeCache: (what) => s.stack.purgeCache(what),
  });
  cleanups.push(() => new Promise((resolve) => admin.close(() => resolve())));
  const purge = async (body: string) => {
    const r = await request(`${adminAddress(admin)}/cache/purge`, { method: 'POST', body });
    return { status: r.statusCode, json: await r.body.json() as { purged?: number; error?: string } };
  };
  const get = async () => (await request(`${s.url}/home`)).body.text();
  assert.equal(await get(), 'v1');
  assert.equal(await get(), 'v1');
  const host = new URL(s.url).hostname;
  assert.deepEqual(await purge(JSON.stringify({ url: `http://${host}/home` })), { status: 200, json: { ok: true, purged: 1 } });
  assert.equal(await get(), 'v2');
  assert.deepEqual((await purge(JSON.stringify({ tag: 'home' }))).json.purged, 1);
  assert.equal(await get(), 'v3');
  const bad = await purge('{"url": "not a url"}');
  assert.equal(bad.status, 400);
  assert.match(String(bad.json.error), /absolute URL/);
});

test('store "redis": two stacks share one cache, and a purge through one instance reaches the other', async () => {
  const { startRedis } = await import('./helpers/redis-server.ts');
  const redis = await startRedis();
  cleanups.push(() => redis.stop());
  let calls = 0;
  const up = await scriptedServer((req, res) => { calls++; res.writeHead(200, { 'cache-control': 'max-age=600' }); res.end(`v${calls}`); });
  cleanups.push(() => up.close());
  const cache = { store: 'redis', redis: { url: redis.url, prefix: 'two:' } };
  const stacks: TestStack[] = [];
  for (let i = 0; i < 2; i++) {
    const s = await startStack({ pools: { web: { servers: [{ url: up.url }] } }, routes: [{ path: '/', upstream: 'web', host: 'shop.test', cache } as never] });
    cleanups.push(() => s.close());
    stacks.push(s);
  }
  const get = async (s: TestStack) => {
    const r = await request(`${s.url}/item`, { headers: { host: 'shop.test' } });
    return { text: await r.body.text(), x: r.headers['x-cache'] };
  };
  assert.deepEqual(await get(stacks[0]), { text: 'v1', x: 'MISS' });
  // The first instance stores once the body has ended; wait for the second to see it.
  const { waitFor } = await import('./helpers/servers.ts');
  await waitFor(async () => (await get(stacks[1])).x === 'HIT', 'the second instance to hit');
  assert.equal(await stacks[0].stack.purgeCache({ url: 'http://shop.test/item' }), 1);
  assert.deepEqual(await get(stacks[1]), { text: 'v2', x: 'MISS' });
  assert.equal(calls, 2);
});

test('RFC 9111 §3.3: a Range request on a miss through the stack fetches the whole body once, stores it and answers 206', async () => {
  const seen: (string | undefined)[] = [];
  const body = 'abcdefghij'.repeat(1000);
  const up = await scriptedServer((req, res) => {
    seen.push(req.headers.range);
    res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain', 'content-length': String(body.length) });
    res.end(body);
  });
  const s = await cachedProxy(up);
  const part = await request(`${s.url}/video`, { headers: { range: 'bytes=9990-10009' } });
  assert.equal(part.statusCode, 206);
  assert.equal(part.headers['content-range'], 'bytes 9990-9999/10000', 'a last-byte-pos past the end is clipped (RFC 9110 §14.1.1)');
  assert.equal(await part.body.text(), body.slice(9990));
  const whole = await request(`${s.url}/video`);
  assert.equal(whole.headers['x-cache'], 'HIT');
  assert.equal((await whole.body.text()).length, 10_000);
  assert.deepEqual(seen, [undefined]);
});

test('RFC 9111 §4.3.5: a HEAD forwarded through the stack freshens the stored GET response', async () => {
  const methods: string[] = [];
  const up = await scriptedServer((req, res) => {
    methods.push(req.method ?? '');
    res.writeHead(200, { 'cache-control': 'max-age=60', etag: '"v1"', 'content-length': '5', 'x-seen': String(methods.length) });
    res.end(req.method === 'HEAD' ? undefined : 'hello');
  });
  const s = await cachedProxy(up);
  await (await request(`${s.url}/h`)).body.text();
  const head = await request(`${s.url}/h`, { method: 'HEAD', headers: { 'cache-control': 'no-cache' } });
  await head.body.text();
  const hit = await request(`${s.url}/h`);
  assert.equal(await hit.body.text(), 'hello');
  assert.equal(hit.headers['x-cache'], 'HIT');
  assert.equal(hit.headers['x-seen'], '2', 'the HEAD response\'s fields replaced the stored ones');
  assert.deepEqual(methods, ['GET', 'HEAD']);
});

test('RFC 9111 §5.2.2.6: on a cached route with compress, a no-transform response is never compressed, on the miss or the hit', async () => {
  const text = 'portico '.repeat(500);
  const up = await scriptedServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': req.url === '/nt' ? 'max-age=60, no-transform' : 'max-age=60' });
    res.end(text);
  });
  const s = await startStack({ pools: { web: { servers: [{ url: up.url }] } }, routes: [{ path: '/', upstream: 'web', cache: true, compress: true } as never] });
  cleanups.push(() => s.close(), () => up.close());
  for (const expected of ['MISS', 'HIT']) {
    const nt = await request(`${s.url}/nt`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(await nt.body.text(), text);
    assert.equal(nt.headers['x-cache'], expected);
    assert.equal(nt.headers['content-encoding'], undefined);
    const gz = await request(`${s.url}/gz`, { headers: { 'accept-encoding': 'gzip' } });
    await gz.body.arrayBuffer();
    assert.equal(gz.headers['x-cache'], expected);
    assert.equal(gz.headers['content-encoding'], 'gzip', 'the control: compress is on for this route');
  }
});
