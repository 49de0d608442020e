// A route with both `cache` and `compress`: the compressor sits below the cache, so each coding
// is stored once (RFC 9111 §4.1 variants, keyed by the coding Accept-Encoding selects, RFC 9110
// §12.5.3) and a hit is served without compressing again. Server-Timing shows the compressor's
// work: `compress;desc=<coding>` only where it encoded.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import type http from 'node:http';
import { request } from 'undici';
import { scriptedServer } from './helpers/servers.ts';
import { startStack, type TestStack } from './helpers/stack.ts';

const text = 'portico compresses below its cache\n'.repeat(300);
const HAS_ZSTD = typeof (zlib as { zstdDecompressSync?: unknown }).zstdDecompressSync === 'function';
const cleanups: (() => Promise<void>)[] = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

interface Seen { url: string; method: string; ae: string | undefined; inm: string | undefined }

/** An origin that counts requests and answers If-None-Match with 304 (weak comparison, RFC 9110 §13.1.2). */
async function origin(cacheControl: string, onRequest?: (req: http.IncomingMessage) => Promise<void>) {
  const seen: Seen[] = [];
  const up = await scriptedServer(async (req, res) => {
    seen.push({ url: req.url ?? '', method: req.method ?? '', ae: req.headers['accept-encoding'], inm: req.headers['if-none-match'] });
    await onRequest?.(req);
    const inm = req.headers['if-none-match'];
    const headers = { 'content-type': 'text/plain', 'cache-control': cacheControl, etag: '"v1"', 'cache-tag': 'doc', 'x-served': String(seen.length) };
    if (inm !== undefined && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === '"v1"')) return res.writeHead(304, headers).end();
    res.writeHead(200, { ...headers, 'content-length': String(Buffer.byteLength(text)) });
    res.end(req.method === 'HEAD' ? undefined : text);
  });
  return { up, seen };
}

async function stackFor(url: string, cache: Record<string, unknown> = {}): Promise<TestStack> {
  const s = await startStack({
    pools: { web: { servers: [{ url }] } },
    routes: [{ path: '/', upstream: 'web', cache: { ...cache, purge: { allow: ['127.0.0.1/32', '::1/128'] } }, compress: true } as never],
  });
  cleanups.push(() => s.close());
  return s;
}

async function get(s: TestStack, path: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' | 'PURGE' = 'GET') {
  const res = await request(s.url + path, { method, headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers as Record<string, string>, body };
}

function decode(coding: string | undefined, body: Buffer): string {
  if (coding === 'gzip') return zlib.gunzipSync(body).toString();
  if (coding === 'br') return zlib.brotliDecompressSync(body).toString();
  if (coding === 'zstd') return (zlib as unknown as { zstdDecompressSync(b: Buffer): Buffer }).zstdDecompressSync(body).toString();
  assert.equal(coding, undefined, `unexpected coding ${coding}`);
  return body.toString();
}

const CLIENTS: [string, string | undefined][] = [
  ['gzip, deflate', 'gzip'],
  ['gzip;q=0.5, br', 'br'],
  ...(HAS_ZSTD ? [['zstd', 'zstd'] as [string, string]] : []),
  ['identity', undefined],
];

test('a gzip, a br, a zstd and an identity client each get their stored variant: one upstream request per coding, no compression on hits', async () => {
  const { up, seen } = await origin('max-age=60');
  cleanups.push(() => up.close());
  const s = await stackFor(up.url);
  const misses: Record<string, Buffer> = {};
  for (const [ae, coding] of CLIENTS) {
    const miss = await get(s, '/doc', { 'accept-encoding': ae });
    assert.equal(miss.headers['x-cache'], 'MISS', ae);
    assert.equal(miss.headers['content-encoding'], coding, ae);
    assert.equal(decode(coding, miss.body), text);
    assert.equal(miss.headers.vary, 'Accept-Encoding');
    assert.match(miss.headers['server-timing'], coding === undefined ? /(^|, )compress;dur=/ : new RegExp(`compress;desc=${coding};dur=`), 'the miss went through the compressor');
    misses[ae] = miss.body;
  }
  assert.equal(seen.length, CLIENTS.length, 'one upstream request per coding');
  for (const [ae, coding] of CLIENTS) {
    const hit = await get(s, '/doc', { 'accept-encoding': ae });
    assert.equal(hit.headers['x-cache'], 'HIT', ae);
    assert.match(hit.headers['cache-status'], /^portico; hit/);
    assert.equal(hit.headers['content-encoding'], coding, ae);
    assert.equal(hit.headers.vary, 'Accept-Encoding', 'Vary still tells clients and caches downstream (RFC 9110 §12.5.5)');
    assert.equal(hit.headers['content-length'], String(hit.body.length), 'a stored variant has a known length');
    assert.deepEqual(hit.body, misses[ae], 'the very bytes stored on the miss');
    assert.doesNotMatch(hit.headers['server-timing'], /compress/, 'a hit never reaches the compressor');
  }
  assert.equal(seen.length, CLIENTS.length);
  // Many spellings fold onto the same four variants (RFC 9110 §12.5.3 q-values decide).
  const spellings = ['gzip', 'GZIP', 'x-gzip', 'deflate, gzip', 'gzip;q=1.0, identity;q=0.5', 'br;q=0, gzip', 'br', 'br, gzip, deflate', 'gzip;q=0.1, br;q=0.9', '*', 'identity;q=1', '', 'deflate'];
  for (const ae of spellings) {
    const r = await get(s, '/doc', { 'accept-encoding': ae });
    assert.equal(r.headers['x-cache'], 'HIT', JSON.stringify(ae));
  }
  const none = await get(s, '/doc');
  assert.equal(none.headers['x-cache'], 'HIT', 'no Accept-Encoding shares the identity variant');
  assert.equal(none.headers['content-encoding'], undefined);
  assert.equal(seen.length, CLIENTS.length, 'no more upstream requests for any spelling');
  for (const r of seen) assert.ok(['br', 'zstd', 'gzip', 'identity'].includes(r.ae ?? ''), `upstream was asked for one coding, got ${r.ae}`);
});

test('conditionals: If-None-Match is answered from the variant the request selects; weak ETags on compressed variants', async () => {
  const { up } = await origin('max-age=60');
  cleanups.push(() => up.close());
  const s = await stackFor(up.url);
  const gz = await get(s, '/c', { 'accept-encoding': 'gzip' });
  assert.equal(gz.headers.etag, 'W/"v1"', 'a compressed representation has a weak validator (RFC 9110 §8.8.3)');
  const plain = await get(s, '/c', {});
  assert.equal(plain.headers.etag, '"v1"', 'the identity variant keeps the strong one');
  const nm = await get(s, '/c', { 'accept-encoding': 'gzip', 'if-none-match': 'W/"v1"' });
  assert.equal(nm.status, 304);
  assert.equal(nm.headers.etag, 'W/"v1"');
  const nmPlain = await get(s, '/c', { 'if-none-match': '"v1"' });
  assert.equal(nmPlain.status, 304);
  assert.equal(nmPlain.headers.etag, '"v1"');
  const other = await get(s, '/c', { 'accept-encoding': 'br', 'if-none-match': '"v0"' });
  assert.equal(other.status, 200);
  assert.equal(other.headers['content-encoding'], 'br');
});

test('a stale variant is revalidated with its own validator and the 304 updates that variant only', async () => {
  const { up, seen } = await origin('max-age=0');
  cleanups.push(() => up.close());
  const s = await stackFor(up.url);
  const first = await get(s, '/r', { 'accept-encoding': 'gzip' });
  assert.equal(first.headers['x-served'], '1');
  const again = await get(s, '/r', { 'accept-encoding': 'gzip' });
  assert.equal(again.status, 200);
  assert.match(again.headers['cache-status'], /fwd=stale; fwd-status=304/, 'validated, not fetched again');
  assert.equal(again.headers['content-encoding'], 'gzip');
  assert.equal(decode('gzip', again.body), text);
  assert.equal(again.headers['x-served'], '2', 'the 304\'s fields replaced the stored ones');
  assert.doesNotMatch(again.headers['server-timing'], /compress;desc/, 'nothing was compressed for a 304');
  const br = await get(s, '/r', { 'accept-encoding': 'br' });
  assert.equal(br.headers['content-encoding'], 'br');
  assert.equal(br.headers['x-served'], '3', 'the br variant was not the one updated');
  assert.deepEqual(seen.map((r) => [r.ae, r.inm]), [['gzip', undefined], ['gzip', 'W/"v1"'], ['br', undefined]]);
});

test('Range applies to the selected (compressed) representation (RFC 9110 §14), on the miss and the hit; If-Range never matches a weak ETag', async () => {
  const { up, seen } = await origin('max-age=60');
  cleanups.push(() => up.close());
  const s = await stackFor(up.url);
  const part = await get(s, '/g', { 'accept-encoding': 'gzip', range: 'bytes=0-9' });
  assert.equal(part.status, 206);
  assert.equal(part.headers['content-encoding'], 'gzip');
  const whole = await get(s, '/g', { 'accept-encoding': 'gzip' });
  assert.equal(whole.headers['x-cache'], 'HIT');
  assert.equal(part.headers['content-range'], `bytes 0-9/${whole.body.length}`);
  assert.deepEqual(part.body, whole.body.subarray(0, 10));
  const tail = await get(s, '/g', { 'accept-encoding': 'gzip', range: 'bytes=-5' });
  assert.equal(tail.status, 206);
  assert.deepEqual(tail.body, whole.body.subarray(whole.body.length - 5));
  const ifRange = await get(s, '/g', { 'accept-encoding': 'gzip', range: 'bytes=0-9', 'if-range': 'W/"v1"' });
  assert.equal(ifRange.status, 200, 'a weak validator cannot make a range safe (RFC 9110 §13.1.5)');
  assert.equal(seen.length, 1);
});

test('HEAD: a hit gets the stored variant\'s fields; a forwarded HEAD freshens the compressed variant instead of invalidating it (RFC 9111 §4.3.5)', async () => {
  const { up, seen } = await origin('max-age=60');
  cleanups.push(() => up.close());
  const s = await stackFor(up.url);
  const gz = await get(s, '/h', { 'accept-encoding': 'br' });
  const head = await get(s, '/h', { 'accept-encoding': 'br' }, 'HEAD');
  assert.equal(head.headers['x-cache'], 'HIT');
  assert.equal(head.headers['content-encoding'], 'br');
  assert.equal(head.headers['content-length'], String(gz.body.length));
  assert.equal(head.body.length, 0);
  // no-cache sends the HEAD upstream; its answer goes through the compressor like a GET's would.
  const forwarded = await get(s, '/h', { 'accept-encoding': 'br', 'cache-control': 'no-cache' }, 'HEAD');
  assert.equal(forwarded.headers['content-encoding'], 'br');
  assert.equal(forwarded.headers.etag, 'W/"v1"');
  const after = await get(s, '/h', { 'accept-encoding': 'br' });
  assert.equal(after.headers['x-cache'], 'HIT', 'still fresh: the HEAD agreed with the stored br variant');
  assert.equal(after.headers['x-served'], '2', 'and its fields were taken');
  assert.deepEqual(seen.map((r) => r.method), ['GET', 'HEAD']);
});

test('PURGE, a purge by URL, a ban by prefix and a tag purge each remove every variant', async () => {
  const { up, seen } = await origin('max-age=60');
  cleanups.push(() => up.close());
  const s = await stackFor(up.url);
  const host = new URL(s.url).host;
  const fill = async (path: string) => {
    for (const [ae] of CLIENTS) await get(s, path, { 'accept-encoding': ae });
    for (const [ae] of CLIENTS) assert.equal((await get(s, path, { 'accept-encoding': ae })).headers['x-cache'], 'HIT');
  };
  const purges: [string, () => Promise<number>][] = [
    ['PURGE', async () => (JSON.parse((await get(s, '/p', {}, 'PURGE')).body.toString()) as { purged: number }).purged],
    ['url', () => s.stack.purgeCache({ url: `http://${host.split(':')[0]}/p` })],
    ['prefix', () => s.stack.purgeCache({ prefix: `http://${host.split(':')[0]}/` })],
    ['tag', () => s.stack.purgeCache({ tag: 'doc' })],
  ];
  for (const [how, purge] of purges) {
    await fill('/p');
    const before = seen.length;
    assert.equal(await purge(), CLIENTS.length, `${how}: every variant counted`);
    for (const [ae, coding] of CLIENTS) {
      const r = await get(s, '/p', { 'accept-encoding': ae });
      assert.equal(r.headers['x-cache'], 'MISS', `${how}: ${ae}`);
      assert.equal(r.headers['content-encoding'], coding);
    }
    assert.equal(seen.length, before + CLIENTS.length);
  }
});

test('concurrent misses coalesce per coding: 30 clients of three codings make three upstream requests', async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => { release = resolve; });
  const { up, seen } = await origin('max-age=60', async () => {
    if (seen.length >= 3) release();
    // Bounded: with broken coalescing the other codings would wait for the coalescing timeout instead.
    await Promise.race([released, new Promise((resolve) => setTimeout(resolve, 3000))]);
  });
  cleanups.push(() => up.close());
  const s = await stackFor(up.url, { coalesceTimeout: '1s' });
  const codings = ['gzip', 'br', 'identity'];
  const results = await Promise.all(Array.from({ length: 30 }, (_, i) => get(s, '/burst', { 'accept-encoding': codings[i % 3] })));
  for (const [i, r] of results.entries()) {
    const coding = codings[i % 3];
    assert.equal(decode(coding === 'identity' ? undefined : coding, r.body), text);
  }
  assert.equal(seen.length, 3, `one upstream request per coding, got ${seen.map((r) => r.ae).join(', ')}`);
});

test('never twice: an origin that encodes by itself is asked for the one coding chosen, and its encoding is stored as it is', async () => {
  const seen: (string | undefined)[] = [];
  const up = await scriptedServer((req, res) => {
    const ae = req.headers['accept-encoding'];
    seen.push(ae);
    // An origin that can only gzip (like many app frameworks), and says so by Vary.
    if (ae !== undefined && /gzip/.test(ae)) {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60', 'content-encoding': 'gzip', vary: 'Accept-Encoding' });
      return res.end(zlib.gzipSync(text));
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60', vary: 'Accept-Encoding' });
    res.end(text);
  });
  cleanups.push(() => up.close());
  const s = await stackFor(up.url);
  for (const expected of ['MISS', 'HIT']) {
    const gz = await get(s, '/o', { 'accept-encoding': 'gzip, deflate, br;q=0.5' });
    assert.equal(gz.headers['x-cache'], expected);
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(decode('gzip', gz.body), text, 'decodes once');
    assert.doesNotMatch(gz.headers['server-timing'], /compress;desc/, 'the origin\'s gzip is not encoded again');
    // The origin cannot do br: it is asked for br alone, answers identity, and Portico encodes.
    const br = await get(s, '/o', { 'accept-encoding': 'gzip;q=0.5, br' });
    assert.equal(br.headers['x-cache'], expected);
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(decode('br', br.body), text);
  }
  assert.deepEqual(seen, ['gzip', 'br']);
});
