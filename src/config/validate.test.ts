import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from './validate.ts';
import { configSchema } from './schema.ts';
import { parseDuration } from './duration.ts';
import { DEFAULT_LIMITS } from '../edge/limits.ts';
import type { ConfigIssue } from './issues.ts';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'portico-config-'));
  writeFileSync(join(dir, 'app.ts'), 'export default { fetch: () => new Response("ok") };\n');
  mkdirSync(join(dir, 'public'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function issuesOf(input: unknown): ConfigIssue[] {
  const result = validateConfig(input, dir);
  assert.equal(result.ok, false, 'expected the config to be rejected');
  return result.ok ? [] : result.issues;
}

function messageAt(input: unknown, path: string): string | undefined {
  return issuesOf(input).find((i) => i.path === path)?.message;
}

describe('validateConfig: every mistake at once', () => {
  test('reports schema and cross-reference errors together, each at its exact path, in document order', () => {
    const issues = issuesOf({
      listeners: [{ port: 8080 }, { port: 8080 }, { port: 70000 }],
      admin: { host: '0.0.0.0', port: 9000 },
      pools: {
        web: { servers: [{ url: 'http://127.0.0.1:3000' }], timeout: '10 sec' },
        assets: { servers: [] },
      },
      apps: {
        shop: { module: './app.ts' },
        blog: { module: './blog/app.ts' },
      },
      routes: [
        { path: '/a', upstreem: 'web' },
        { path: '/b', upstream: 'web' },
        { path: '/api', upstream: 'api' },
        { path: '/shop', app: 'shp' },
        { path: '/files', static: { root: './missing' } },
        { path: '/both', app: 'shop', redirect: '/elsewhere' },
        { path: 'nope', respond: { status: 200 } },
      ],
      shutdownTimeout: -5,
    });
    assert.deepEqual(issues, [
      { path: 'listeners[1].port', message: 'port 8080 is already used by listeners[0]' },
      { path: 'listeners[2].port', message: 'expected a port (an integer 0–65535), got 70000' },
      { path: 'admin.token', message: 'missing: admin on non-loopback host "0.0.0.0" requires a token' },
      { path: 'pools.web.timeout', message: 'expected a duration: milliseconds ≥ 0 or a string like "500ms", "30s", "2m", "1h", got "10 sec"' },
      { path: 'pools.assets.servers', message: 'a pool needs at least one server, got an empty list' },
      { path: 'apps.blog.module', message: `file not found: ${join(dir, 'blog/app.ts')}` },
      { path: 'routes[0].upstreem', message: 'unknown field (did you mean "upstream"?)' },
      { path: 'routes[2].upstream', message: 'unknown pool "api" (known: web, assets)' },
      { path: 'routes[3].app', message: 'unknown app "shp" (known: shop, blog)' },
      { path: 'routes[4].static.root', message: `directory not found: ${join(dir, 'missing')}` },
      { path: 'routes[5]', message: 'route "/both" has 2 targets (app, redirect); expected exactly one of upstream, app, static, redirect, respond' },
      { path: 'routes[6].path', message: 'expected a path starting with "/" like "/api" (no "?", "#", "//", "." or ".." segments), got "nope"' },
      { path: 'shutdownTimeout', message: 'expected a duration: milliseconds ≥ 0 or a string like "500ms", "30s", "2m", "1h", got -5' },
    ]);
  });

  test('a route with other mistakes still has its references checked', () => {
    const issues = issuesOf({ pools: { web: { servers: [{ url: 'http://127.0.0.1:1' }] } }, routes: [{ path: '/x', stripPrefx: true, upstream: 'wbe' }] });
    assert.deepEqual(issues, [
      { path: 'routes[0].stripPrefx', message: 'unknown field (did you mean "stripPrefix"?)' },
      { path: 'routes[0].upstream', message: 'unknown pool "wbe" (known: web)' },
    ]);
  });

  test('an entry that fails to parse is still a known name for references', () => {
    const issues = issuesOf({ pools: { web: { servers: [] } }, routes: [{ upstream: 'web' }] });
    assert.deepEqual(issues.map((i) => i.path), ['pools.web.servers']);
  });
});

describe('validateConfig: individual rules', () => {
  test('a route needs exactly one target, and the error names the route', () => {
    assert.equal(messageAt({ routes: [{ name: 'home', path: '/' }] }, 'routes[0]'),
      'route "home" has no target; expected exactly one of upstream, app, static, redirect, respond');
    assert.equal(messageAt({ routes: [{ path: '/x', static: './public', respond: {} }] }, 'routes[0]'),
      'route "/x" has 2 targets (static, respond); expected exactly one of upstream, app, static, redirect, respond');
  });

  test('a misspelt target is reported once, as the typo', () => {
    assert.deepEqual(issuesOf({ routes: [{ redirct: '/x' }] }), [{ path: 'routes[0].redirct', message: 'unknown field (did you mean "redirect"?)' }]);
  });

  test('a misspelt required field is reported once, as the typo', () => {
    assert.deepEqual(issuesOf({ apps: { shop: { modle: './app.ts' } }, routes: [] }), [
      { path: 'apps.shop.modle', message: 'unknown field (did you mean "module"?)' },
    ]);
    assert.deepEqual(issuesOf({ rotues: [] }), [{ path: 'rotues', message: 'unknown field (did you mean "routes"?)' }]);
  });

  test('an unknown field with no close match lists the known ones', () => {
    assert.equal(messageAt({ routes: [], listeners: [{ port: 1, ssl: true }] }, 'listeners[0].ssl'),
      'unknown field (known: name, protocol, host, port, tls, redirectToHttps, hsts, canonicalHosts, proxyProtocol, engine, reusePort, limits)');
  });

  test('missing routes and a non-object config are reported', () => {
    assert.deepEqual(issuesOf({}), [{ path: 'routes', message: 'missing: expected a list of routes' }]);
    assert.deepEqual(issuesOf(42), [{ path: '(config)', message: 'expected a config object (export default defineConfig({ … })), got 42' }]);
  });

  test('listener ports: 0 may repeat, other ports clash only where the hosts overlap', () => {
    assert.equal(validateConfig({ routes: [], listeners: [{ port: 0 }, { port: 0 }] }, dir).ok, true);
    assert.equal(validateConfig({ routes: [], listeners: [{ host: '127.0.0.1', port: 80 }, { host: '10.0.0.1', port: 80 }] }, dir).ok, true);
    assert.equal(messageAt({ routes: [], listeners: [{ host: '127.0.0.1', port: 80 }, { host: '0.0.0.0', port: 80 }] }, 'listeners[1].port'),
      'port 80 is already used by listeners[0] (on 127.0.0.1)');
    assert.equal(messageAt({ routes: [], listeners: [{ port: 1.5 }] }, 'listeners[0].port'), 'expected a port (an integer 0–65535), got 1.5');
    assert.equal(messageAt({ routes: [], listeners: [{ name: 'a', port: 1 }, { name: 'a', port: 2 }] }, 'listeners[1].name'),
      'name "a" is already used by listeners[0]');
    assert.match(messageAt({ routes: [], listeners: [] }, 'listeners') ?? '', /at least one listener/);
  });

  test('admin: a token is required off loopback; socket and host/port are exclusive; port clashes with listeners', () => {
    assert.equal(validateConfig({ routes: [], admin: { host: '0.0.0.0', port: 9000, token: 's3cret' } }, dir).ok, true);
    assert.equal(validateConfig({ routes: [], admin: { host: '127.0.0.1', port: 9000 } }, dir).ok, true);
    assert.match(messageAt({ routes: [], admin: { socket: 'a.sock', port: 9000 } }, 'admin.socket') ?? '', /either a unix socket or host\/port/);
    assert.equal(messageAt({ routes: [], admin: { port: 8080 } }, 'admin.port'), 'port 8080 is already used by the default listener');
  });

  test('server urls: http://host:port, https://host:port or unix:path', () => {
    const pool = (url: string) => ({ pools: { p: { servers: [{ url }] } }, routes: [] });
    for (const url of ['http://127.0.0.1:3000', 'http://backend.internal:80/', 'http://[::1]:8080', 'https://api.internal:443', 'HTTPS://[::1]:8443/', 'unix:/run/app.sock', 'unix:run/app.sock']) {
      assert.equal(validateConfig(pool(url), dir).ok, true, url);
    }
    for (const url of ['https://a', 'http://a', 'http://a:0', 'http://a:99999', 'http://a:1/path', 'http://u@a:1', 'unix:', 'tcp://a:1', 'wss://a:1', '127.0.0.1:80']) {
      assert.equal(messageAt(pool(url), 'pools.p.servers[0].url'), `expected "http://host:port", "https://host:port" or "unix:/path/to.sock", got ${JSON.stringify(url)}`, url);
    }
  });

  test('workers: a positive integer or "auto"', () => {
    assert.equal(messageAt({ apps: { a: { module: './app.ts', workers: 'many' } }, routes: [] }, 'apps.a.workers'), 'expected a positive integer or "auto", got "many"');
  });

  test('the same host and path twice is an error (the second would never match)', () => {
    assert.equal(messageAt({ routes: [{ path: '/a/', respond: {} }, { path: '/a', respond: {} }] }, 'routes[1].path'),
      'path "/a" on any host is already routed by routes[0]; this route would never match');
    assert.equal(validateConfig({ routes: [{ host: 'a.com', path: '/a', respond: {} }, { host: 'b.com', path: '/a', respond: {} }] }, dir).ok, true);
  });

  test('header values cannot carry a line break (no header injection from config)', () => {
    assert.match(messageAt({ routes: [{ respond: { headers: { 'x-a': 'b\r\nset-cookie: x' } } }] }, 'routes[0].respond.headers') ?? '', /one-line/);
  });
});

describe('durations', () => {
  test('numbers are ms; strings take ms, s, m, h', () => {
    assert.equal(parseDuration(0), 0);
    assert.equal(parseDuration(250), 250);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('2m'), 120_000);
    assert.equal(parseDuration('1h'), 3_600_000);
    for (const bad of [-1, Number.NaN, Infinity, '10', '10 s', '1d', '', 's', null]) assert.equal(parseDuration(bad), undefined, String(bad));
  });

  test('a duration past the timer limit is rejected rather than firing at once', () => {
    assert.match(messageAt({ routes: [], shutdownTimeout: '1000h' }, 'shutdownTimeout') ?? '', /too long/);
  });
});

describe('validateConfig: the resolved config', () => {
  test('the smallest config gets every default', () => {
    const result = validateConfig({ routes: [{ respond: {} }] }, dir);
    assert.ok(result.ok);
    assert.deepEqual(result.config, {
      baseDir: dir,
      listeners: [{ name: 'http', protocol: 'http', host: '127.0.0.1', port: 8080, tls: null, redirectToHttps: null, hsts: null, canonicalHosts: {}, proxyProtocol: false, engine: 'portico', reusePort: false, limits: DEFAULT_LIMITS }],
      admin: { socket: join(dir, '.portico', 'admin.sock') },
      pools: {},
      apps: {},
      routes: [{
        index: 0, name: '/ → respond 200', kind: 'respond', hosts: [], path: '/', pathKind: 'prefix', stripPrefix: false, compress: null,
        match: null, rewrite: null, requestHeaders: null, responseHeaders: null, hostHeader: null, rewriteLocation: true, websocket: null, errorPages: {}, bufferRequest: null,
        respond: { status: 200, body: '', headers: {} },
      }],
      trustedProxies: ['127.0.0.0/8', '::1/128'],
      shutdownTimeout: 10_000,
      runtimeDir: join(dir, '.portico'),
      accessLog: { format: 'combined', path: null },
      processes: 1,
    });
  });

  test('a full config is normalised: names, paths, durations, hosts, targets', () => {
    const result = validateConfig({
      listeners: [{ port: 0 }, { name: 'http-2', host: '::', port: 0 }, { port: 0 }],
      admin: { host: '127.0.0.1', port: 0 },
      pools: { web: { servers: [{ url: 'http://localhost:3000/' }, { url: 'unix:run/web.sock', weight: 3 }], connectTimeout: '2s', timeout: '1m' } },
      apps: { shop: { module: 'app.ts', workers: 'auto' }, admin: { module: './app.ts', workers: 2, concurrency: 8 } },
      routes: [
        { name: 'api', host: ['API.Example.com', '*.example.com'], path: '/api/', upstream: 'web', stripPrefix: true },
        { path: '/shop', app: 'shop' },
        { path: '/assets', static: './public' },
        { path: '/docs', static: { root: 'public', index: 'README.html', cacheControl: 'public, max-age=60' } },
        { path: '/old', redirect: '/new' },
        { path: '/moved', redirect: { to: 'https://example.org$request_uri', status: 308 } },
        { path: '/health', respond: { status: 204, headers: { 'Cache-Control': 'no-store' } } },
      ],
      trustedProxies: ['10.0.0.0/8'],
      shutdownTimeout: '30s',
      runtimeDir: '/run/portico',
    }, dir);
    assert.ok(result.ok, JSON.stringify(!result.ok && result.issues));
    const c = result.config;
    assert.deepEqual(c.listeners.map((l) => [l.name, l.host]), [['http', '127.0.0.1'], ['http-2', '::'], ['http-3', '127.0.0.1']]);
    assert.deepEqual(c.admin, { host: '127.0.0.1', port: 0 });
    assert.deepEqual(c.pools.web, {
      name: 'web',
      servers: [
        { url: 'http://localhost:3000', address: { kind: 'tcp', host: 'localhost', port: 3000, secure: false }, weight: 1, maxConnections: 0, backup: false },
        { url: `unix:${join(dir, 'run/web.sock')}`, address: { kind: 'unix', path: join(dir, 'run/web.sock') }, weight: 3, maxConnections: 0, backup: false },
      ],
      connections: 64,
      connectTimeout: 2000,
      timeout: 60_000,
      bodyTimeout: 60_000,
      keepAliveTimeout: 4_000,
      client: 'portico',
      policy: { name: 'weighted-round-robin' },
      queue: { maxLength: 1000, timeout: 120_000 },
      retries: 1,
      retryBudget: 0.2,
      retryAfter: 10,
      maintenancePage: null,
      healthCheck: null,
      discovery: null,
      passive: null,
      slowStart: 0,
      tls: null,
      http2: false,
    });
    // gracefulTimeout defaults to the stack's shutdownTimeout ('30s' here).
    assert.deepEqual(c.apps.shop, { name: 'shop', module: join(dir, 'app.ts'), workers: availableParallelism(), concurrency: 64, workerTimeout: 30_000, gracefulTimeout: 30_000, maxRequests: 0, maxRequestsJitter: 0, maxMemory: 0, mode: 'workers' });
    assert.deepEqual(c.apps.admin, { name: 'admin', module: join(dir, 'app.ts'), workers: 2, concurrency: 8, workerTimeout: 30_000, gracefulTimeout: 30_000, maxRequests: 0, maxRequestsJitter: 0, maxMemory: 0, mode: 'workers' });
    assert.deepEqual(c.routes.map((r) => [r.index, r.kind, r.name, r.hosts, r.path, r.stripPrefix]), [
      [0, 'upstream', 'api', ['api.example.com', '*.example.com'], '/api', true],
      [1, 'app', '/shop → app shop', [], '/shop', false],
      [2, 'static', '/assets → static ./public', [], '/assets', false],
      [3, 'static', '/docs → static public', [], '/docs', false],
      [4, 'redirect', '/old → redirect 301 /new', [], '/old', false],
      [5, 'redirect', '/moved → redirect 308 https://example.org$request_uri', [], '/moved', false],
      [6, 'respond', '/health → respond 204', [], '/health', false],
    ]);
    assert.deepEqual(c.routes[2].kind === 'static' && c.routes[2].static, { root: join(dir, 'public'), index: 'index.html', precompressed: true, followSymlinks: false });
    assert.deepEqual(c.routes[3].kind === 'static' && c.routes[3].static, { root: join(dir, 'public'), index: 'README.html', precompressed: true, followSymlinks: false, cacheControl: 'public, max-age=60' });
    assert.deepEqual(c.routes[4].kind === 'redirect' && c.routes[4].redirect, { to: '/new', status: 301 });
    assert.deepEqual(c.routes[6].kind === 'respond' && c.routes[6].respond, { status: 204, body: '', headers: { 'Cache-Control': 'no-store' } });
    assert.deepEqual(c.trustedProxies, ['10.0.0.0/8']);
    assert.equal(c.shutdownTimeout, 30_000);
    assert.equal(c.runtimeDir, '/run/portico');
  });

  test('the resolved config is frozen: a reload replaces it, nobody edits it', () => {
    const result = validateConfig({ routes: [{ path: '/x', respond: { headers: { a: 'b' } } }] }, dir);
    assert.ok(result.ok);
    assert.ok(Object.isFrozen(result.config) && Object.isFrozen(result.config.routes) && Object.isFrozen(result.config.routes[0]));
    assert.throws(() => { (result.config.listeners[0] as { port: number }).port = 1; }, TypeError);
  });

  test('validation reads no environment and leaves the input alone', () => {
    const input = { routes: [{ path: '/a/', static: './public' }], shutdownTimeout: '5s' };
    const copy = structuredClone(input);
    const a = validateConfig(input, dir);
    const b = validateConfig(input, dir);
    assert.deepEqual(input, copy);
    assert.deepEqual(a, b);
  });

  test('the whole-config schema accepts what validateConfig accepts', () => {
    const input = { pools: { web: { servers: [{ url: 'http://127.0.0.1:1' }] } }, routes: [{ upstream: 'web' }], shutdownTimeout: '1s' };
    const parsed = configSchema.safeParse(input);
    assert.ok(parsed.success);
    assert.equal(parsed.data.shutdownTimeout, 1000);
    assert.equal(configSchema.safeParse({ ...input, extra: 1 }).success, false);
  });
});
