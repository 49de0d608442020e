// Routing rules and per-route rewriting through the whole stack: precedence across host × path ×
// method × header, exact and regex paths, query and client-address conditions, rewrites and
// redirects with captures, header rules, Location rewriting and error pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { scriptedServer, type Scripted } from './helpers/servers.ts';
import { startStack, type TestStack } from './helpers/stack.ts';

let s: TestStack;
let upstream: Scripted;
let seen: { url: string; headers: Record<string, string | string[] | undefined> };
const r = (name: string) => ({ respond: { status: 200, body: name } });

before(async () => {
  upstream = await scriptedServer((req, res) => {
    seen = { url: req.url ?? '', headers: req.headers };
    if (req.url?.startsWith('/login')) return res.writeHead(302, { location: `http://127.0.0.1:${upstream.port}/account/home` }).end();
    if (req.url?.startsWith('/gone')) return res.writeHead(404, { 'content-type': 'text/plain' }).end('upstream 404 text');
    res.writeHead(200, { 'x-upstream-secret': 'leak', 'x-powered-by': 'Express' }).end('up:' + req.url);
  });
  const dir = mkdtempSync(join(tmpdir(), 'portico-rules-'));
  writeFileSync(join(dir, '404.html'), '<h1>Not here</h1>');
  writeFileSync(join(dir, '503.html'), '<h1>Back soon</h1>');
  s = await startStack({
    pools: { web: { servers: [{ url: upstream.url }] } },
    routes: [
      { name: 'any-root', path: '/', ...r('any-root') },
      { name: 'any-api', path: '/api', ...r('any-api') },
      { name: 'api-post', path: '/api', match: { methods: ['POST', 'PUT'] }, ...r('api-post') },
      { name: 'api-beta', path: '/api', match: { headers: { 'x-beta': 'on' } }, ...r('api-beta') },
      { name: 'shop-root', host: 'shop.test', path: '/', ...r('shop-root') },
      { name: 'wild-api', host: '*.test', path: '/api', ...r('wild-api') },
      { name: 'health', exactPath: '/api/health', ...r('health') },
      { name: 'user', pathRegex: '^/users/(?<id>\\d+)$', ...r('user') },
      { name: 'debug', path: '/debug', match: { query: { debug: '1' }, clientIp: ['127.0.0.0/8'] }, ...r('debug') },
      { name: 'nodebug', path: '/debug', match: { clientIp: ['10.0.0.0/8'] }, ...r('never') },
      { name: 'old', pathRegex: '^/old-shop/(.*)$', redirect: { to: '/shop/$1', status: 301 } },
      { name: 'legacy', path: '/legacy', upstream: 'web', stripPrefix: true,
        rewrite: { from: '^/legacy/v1/(\\w+)$', to: '/v2/$1?from=v1' },
        requestHeaders: { set: { 'x-env': 'test' }, add: { 'x-trace': 'portico' }, remove: ['x-drop'] },
        responseHeaders: { remove: ['x-upstream-secret', 'x-powered-by'], set: { 'x-frame-options': 'DENY' } },
        hostHeader: 'legacy.internal' },
      { name: 'pages', path: '/pages', upstream: 'web', stripPrefix: true, errorPages: { 404: join(dir, '404.html') } },
      { name: 'down', path: '/down', respond: { status: 503, body: 'plain' }, errorPages: { 503: join(dir, '503.html') } },
    ],
  });
});
after(async () => { await s.close(); await upstream.close(); });

async function get(path: string, init: { method?: string; headers?: Record<string, string> } = {}) {
  const res = await request(s.url + path, { method: (init.method ?? 'GET') as 'GET', headers: init.headers, body: init.method === 'POST' || init.method === 'PUT' ? '' : undefined });
  return { status: res.statusCode, headers: res.headers as Record<string, string>, body: await res.body.text() };
}

test('precedence table: host × path × method × header', async () => {
  const cases: [string, string, Record<string, string>, string, string][] = [
    // host, path, extra headers / method, expected route, why
    ['other', '/x', {}, 'any-root', 'no host route: host-less prefix "/"'],
    ['other', '/api/items', {}, 'any-api', 'longest prefix'],
    ['other', '/api/items', { method: 'POST' }, 'api-post', 'same prefix: a route with conditions is tried before the one without'],
    ['other', '/api/items', { 'x-beta': 'on' }, 'api-beta', 'header condition'],
    ['other', '/api/items', { 'x-beta': 'off' }, 'any-api', 'header value differs: skipped'],
    ['shop.test', '/api/items', {}, 'shop-root', "the exact host's catch-all beats a wildcard's longer prefix (server_name first)"],
    ['api.test', '/api/items', {}, 'wild-api', 'wildcard host group before host-less routes'],
    ['shop.test', '/cart', {}, 'shop-root', 'exact host beats wildcard and host-less'],
    ['a.test', '/cart', {}, 'any-root', 'wildcard group has no "/": host-less routes'],
    ['other', '/api/health', {}, 'health', 'exact path beats prefix'],
    ['other', '/api/health/x', {}, 'any-api', 'exact path is exact'],
    ['other', '/users/42', {}, 'user', 'regex beats prefix'],
    ['other', '/users/abc', {}, 'any-root', 'regex does not match'],
    ['other', '/debug?debug=1', {}, 'debug', 'query and client address hold'],
  ];
  for (const [host, path, extra, expected, why] of cases) {
    const { method, ...headers } = extra;
    const res = await get(path, { method, headers: { host, ...headers } });
    assert.equal(res.body, expected, `${host}${path} ${JSON.stringify(extra)}: ${why}`);
  }
  assert.equal((await get('/debug', { headers: { host: 'other' } })).body, 'any-root', 'no route of /debug holds: fall back to a shorter prefix');
});

test('redirects with captures; rewrites; header rules; Host rewrite', async () => {
  const red = await get('/old-shop/cart/3?x=1');
  assert.equal(red.status, 301);
  assert.equal(red.headers.location, '/shop/cart/3');
  const res = await get('/legacy/v1/items', { headers: { 'x-drop': 'secret', 'x-trace': 'client' } });
  assert.equal(res.body, 'up:/v2/items?from=v1');
  assert.equal(seen.headers['x-env'], 'test');
  assert.equal(seen.headers['x-trace'], 'client, portico');
  assert.equal(seen.headers['x-drop'], undefined);
  assert.equal(seen.headers['host'], 'legacy.internal');
  assert.equal(res.headers['x-upstream-secret'], undefined);
  assert.equal(res.headers['x-powered-by'], undefined);
  assert.equal(res.headers['x-frame-options'], 'DENY');
  const plain = await get('/legacy/other?q=2');
  assert.equal(plain.body, 'up:/other?q=2', 'no rewrite match: strip prefix only');
});

test('Location pointing at the upstream is rewritten to the client origin with the prefix put back', async () => {
  const res = await get('/legacy/login', { headers: { host: 'www.example.test' } });
  assert.equal(res.status, 302);
  assert.equal(res.headers.location, 'http://www.example.test/legacy/account/home');
});

test('error pages replace error bodies, from upstreams and from fixed responses', async () => {
  const gone = await get('/pages/gone');
  assert.equal(gone.status, 404);
  assert.equal(gone.body, '<h1>Not here</h1>');
  assert.match(gone.headers['content-type'], /text\/html/);
  const ok = await get('/pages/fine');
  assert.equal(ok.body, 'up:/fine');
  const down = await get('/down');
  assert.equal(down.status, 503);
  assert.equal(down.body, '<h1>Back soon</h1>');
});

test('routing rule mistakes are config errors with their paths', async () => {
  const { validateConfig } = await import('../src/config/validate.ts');
  const res = validateConfig({
    routes: [
      { pathRegex: '^/(unclosed', respond: {} },
      { path: '/a', exactPath: '/a', respond: {} },
      { path: '/b', match: { methods: ['get'], headers: { 'bad header': 'x' } }, respond: {} },
      { path: '/c', rewrite: { from: '^/c', to: 'no-slash' }, respond: {} },
    ],
  }, process.cwd());
  assert.equal(res.ok, false);
  const paths = !res.ok ? res.issues.map((i) => i.path) : [];
  for (const p of ['routes[0].pathRegex', 'routes[1].path', 'routes[2].match.methods[0]', 'routes[3].rewrite.to']) assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
  assert.ok(paths.some((p) => p.startsWith('routes[2].match.headers')), paths.join(', '));
});
