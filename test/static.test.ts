// Static files through the whole stack: ranges (RFC 9110 §14), validators (§13), precompressed
// variants, fallbacks, Cache-Control rules, and traversal attempts that must never leave the root.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, brotliCompressSync } from 'node:zlib';
import { request } from 'undici';
import { startStack, type TestStack } from './helpers/stack.ts';

let s: TestStack;
let root: string;
const big = Buffer.alloc(300 * 1024);
for (let i = 0; i < big.length; i++) big[i] = i % 251;
const css = 'body { color: #333; }\n'.repeat(50);

before(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-static-'));
  root = join(dir, 'www');
  mkdirSync(join(root, 'assets'), { recursive: true });
  mkdirSync(join(root, 'docs'));
  writeFileSync(join(root, 'index.html'), '<h1>home</h1>');
  writeFileSync(join(root, 'docs', 'index.html'), '<h1>docs</h1>');
  writeFileSync(join(root, 'assets', 'app.css'), css);
  writeFileSync(join(root, 'assets', 'app.css.gz'), gzipSync(css));
  writeFileSync(join(root, 'assets', 'app.css.br'), brotliCompressSync(css));
  writeFileSync(join(root, 'big.bin'), big);
  writeFileSync(join(dir, 'secret.txt'), 'outside the root');
  symlinkSync(join(dir, 'secret.txt'), join(root, 'escape.txt'));
  symlinkSync(join(root, 'index.html'), join(root, 'inside-link.html'));
  s = await startStack({
    routes: [
      { path: '/spa', static: { root, fallback: '/index.html' }, stripPrefix: true },
      { path: '/', static: { root, cacheControl: [{ match: '/assets/**', value: 'public, max-age=31536000, immutable' }, { match: '*.html', value: 'no-cache' }] } },
    ],
  });
});
after(() => s.close());

async function get(path: string, headers: Record<string, string> = {}, method: 'GET' | 'HEAD' | 'POST' = 'GET') {
  const res = await request(s.url + path, { method, headers });
  const body = Buffer.from(await res.body.arrayBuffer());
  return { status: res.statusCode, headers: res.headers as Record<string, string>, body };
}

/** Raw request: the path goes out exactly as written (no URL normalisation by the client). */
function raw(path: string): Promise<string> {
  const { port } = new URL(s.url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), '127.0.0.1', () => sock.write(`GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`));
    let out = '';
    sock.setEncoding('latin1').on('data', (d) => (out += d)).on('end', () => resolve(out)).on('error', reject);
  });
}

test('files, index, directory redirect, MIME types, Cache-Control by pattern', async () => {
  const home = await get('/');
  assert.equal(home.status, 200);
  assert.equal(home.body.toString(), '<h1>home</h1>');
  assert.match(home.headers['content-type'], /^text\/html/);
  assert.equal(home.headers['cache-control'], 'no-cache');
  const dir = await get('/docs');
  assert.equal(dir.status, 301);
  assert.equal(dir.headers.location, '/docs/');
  assert.equal((await get('/docs/')).body.toString(), '<h1>docs</h1>');
  const asset = await get('/assets/app.css');
  assert.match(asset.headers['content-type'], /^text\/css/);
  assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal((await get('/nope.txt')).status, 404);
  const post = await get('/', {}, 'POST');
  assert.equal(post.status, 405);
  assert.equal(post.headers.allow, 'GET, HEAD');
  const head = await get('/big.bin', {}, 'HEAD');
  assert.equal(head.headers['content-length'], String(big.length));
  assert.equal(head.body.length, 0);
});

test('RFC 9110 §13.1.2/§13.1.3: If-None-Match and If-Modified-Since give 304', async () => {
  const first = await get('/index.html');
  const etag = first.headers.etag;
  assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+"$/);
  assert.equal((await get('/index.html', { 'if-none-match': etag })).status, 304);
  assert.equal((await get('/index.html', { 'if-none-match': `"other", W/${etag}` })).status, 304);
  assert.equal((await get('/index.html', { 'if-none-match': '"other"' })).status, 200);
  assert.equal((await get('/index.html', { 'if-modified-since': first.headers['last-modified'] })).status, 304);
  // §13.2.2: If-None-Match wins over If-Modified-Since.
  assert.equal((await get('/index.html', { 'if-none-match': '"other"', 'if-modified-since': first.headers['last-modified'] })).status, 200);
});

test('RFC 9110 §14: single, suffix, open and multiple ranges; 416; If-Range', async () => {
  const one = await get('/big.bin', { range: 'bytes=100-199' });
  assert.equal(one.status, 206);
  assert.equal(one.headers['content-range'], `bytes 100-199/${big.length}`);
  assert.deepEqual(one.body, big.subarray(100, 200));
  const suffix = await get('/big.bin', { range: 'bytes=-10' });
  assert.deepEqual(suffix.body, big.subarray(big.length - 10));
  const open = await get('/big.bin', { range: `bytes=${big.length - 5}-` });
  assert.deepEqual(open.body, big.subarray(big.length - 5));
  const multi = await get('/big.bin', { range: 'bytes=0-9, 1000-1009' });
  assert.equal(multi.status, 206);
  const boundary = /boundary=(\w+)/.exec(multi.headers['content-type'])![1];
  assert.equal(multi.headers['content-length'], String(multi.body.length));
  const parts = multi.body.toString('latin1').split(`--${boundary}`);
  assert.equal(parts.length, 4); // preamble, 2 parts, closing "--"
  assert.match(parts[2], /Content-Range: bytes 1000-1009\/307200/);
  assert.ok(parts[2].endsWith(big.subarray(1000, 1010).toString('latin1') + '\r\n'));
  const overlap = await get('/big.bin', { range: 'bytes=0-9,5-19' });
  assert.equal(overlap.headers['content-range'], `bytes 0-19/${big.length}`, '§14.1.1: overlapping ranges coalesce');
  const bad = await get('/big.bin', { range: `bytes=${big.length}-` });
  assert.equal(bad.status, 416);
  assert.equal(bad.headers['content-range'], `bytes */${big.length}`);
  assert.equal((await get('/big.bin', { range: 'items=0-1' })).status, 200, 'unknown range unit is ignored');
  const etag = one.headers.etag;
  assert.equal((await get('/big.bin', { range: 'bytes=0-0', 'if-range': etag })).status, 206);
  assert.equal((await get('/big.bin', { range: 'bytes=0-0', 'if-range': '"stale"' })).status, 200, '§13.1.5: a stale If-Range gets the whole file');
  const small = await get('/index.html', { range: 'bytes=4-5' });
  assert.equal(small.body.toString(), 'ho', 'ranges of files served from memory');
});

test('precompressed siblings are chosen by Accept-Encoding q-values, with Vary and their own ETag', async () => {
  const br = await get('/assets/app.css', { 'accept-encoding': 'gzip, br' });
  assert.equal(br.headers['content-encoding'], 'br');
  assert.equal(br.headers.vary, 'Accept-Encoding');
  assert.match(br.headers.etag, /-br"$/);
  const gz = await get('/assets/app.css', { 'accept-encoding': 'gzip, br;q=0.5' });
  assert.equal(gz.headers['content-encoding'], 'gzip');
  const none = await get('/assets/app.css', { 'accept-encoding': 'br;q=0, gzip;q=0' });
  assert.equal(none.headers['content-encoding'], undefined);
  assert.equal(none.headers.vary, 'Accept-Encoding');
  assert.equal(none.body.toString(), css);
  const plain = await get('/assets/app.css');
  assert.equal(plain.headers['content-encoding'], undefined);
});

test('try_files-style fallback serves the SPA index for unknown paths', async () => {
  const r = await get('/spa/some/client/route');
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), '<h1>home</h1>');
});

test('traversal attempts never read outside the root', async () => {
  const attempts = ['/../secret.txt', '/%2e%2e/secret.txt', '/%2E%2E/secret.txt', '/..%2fsecret.txt', '/%252e%252e/secret.txt',
    '/assets/..%5c..%5csecret.txt', '/..\\secret.txt', '/index.html%00.css', '/escape.txt', '/assets/%2e%2e/%2e%2e/secret.txt'];
  for (const path of attempts) {
    const out = await raw(path);
    assert.match(out, /^HTTP\/1.1 (400|404)/, path);
    assert.doesNotMatch(out, /outside the root/, path);
  }
  assert.match(await raw('/inside-link.html'), /^HTTP\/1.1 200[\s\S]*<h1>home<\/h1>/, 'a symlink inside the root is fine');
});

test('a changed file is served once the open-file cache re-checks it (hot path included)', async () => {
  writeFileSync(join(root, 'changing.txt'), 'version one');
  assert.equal((await get('/changing.txt')).body.toString(), 'version one');
  assert.equal((await get('/changing.txt')).body.toString(), 'version one', 'served from the prepared answer');
  writeFileSync(join(root, 'changing.txt'), 'version two, longer');
  writeFileSync(join(root, 'changing.txt.gz'), gzipSync('version two, longer'));
  // Re-checked at most once a second (nginx open_file_cache_valid): poll, bounded.
  const deadline = Date.now() + 5000;
  let r = await get('/changing.txt', { 'accept-encoding': 'gzip' });
  while (r.headers['content-encoding'] !== 'gzip' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    r = await get('/changing.txt', { 'accept-encoding': 'gzip' });
  }
  assert.equal(r.headers['content-encoding'], 'gzip', 'a sibling that appeared is offered');
  assert.equal(r.headers.vary, 'Accept-Encoding');
  const plain = await get('/changing.txt');
  assert.equal(plain.body.toString(), 'version two, longer');
  assert.equal(plain.headers['content-length'], String('version two, longer'.length));
});
