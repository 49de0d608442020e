// One behaviour suite for every router implementation (Hono's habit): a new router passes this
// before it may replace the default. Usage: `routerConformance('radix', (o) => new Router(o))`.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RouteMatch, RouterLike, RouterOptions } from './router.ts';

export type RouterFactory = (options?: RouterOptions) => RouterLike<string>;

function found(m: RouteMatch<string>): { value: string; params: Record<string, string> } {
  assert.equal(m.type, 'found', `expected a match, got ${JSON.stringify(m)}`);
  const f = m as Extract<RouteMatch<string>, { type: 'found' }>;
  return { value: f.value, params: { ...f.params } };
}

function make(factory: RouterFactory, routes: [string, string][], options?: RouterOptions): RouterLike<string> {
  const r = factory(options);
  for (const [method, pattern] of routes) r.add(method, pattern, `${method} ${pattern}`);
  return r;
}

export function routerConformance(name: string, factory: RouterFactory): void {
  describe(`router conformance: ${name}`, () => {
    test('static paths, including the root', () => {
      const r = make(factory, [['GET', '/'], ['GET', '/about'], ['GET', '/about/team']]);
      assert.deepEqual(found(r.match('GET', '/')), { value: 'GET /', params: {} });
      assert.equal(found(r.match('GET', '/about')).value, 'GET /about');
      assert.equal(found(r.match('GET', '/about/team')).value, 'GET /about/team');
      assert.equal(r.match('GET', '/contact').type, 'not-found');
      assert.equal(r.match('GET', '/about/team/x').type, 'not-found');
    });

    test('params, decoded, with names per route', () => {
      const r = make(factory, [['GET', '/users/:id'], ['GET', '/users/:uid/posts/:postId']]);
      assert.deepEqual(found(r.match('GET', '/users/42')).params, { id: '42' });
      assert.deepEqual(found(r.match('GET', '/users/7/posts/9')).params, { uid: '7', postId: '9' });
      assert.deepEqual(found(r.match('GET', '/users/caf%C3%A9%20x')).params, { id: 'café x' });
      assert.deepEqual(found(r.match('GET', '/users/a%2Fb')).params, { id: 'a/b' });
      assert.equal(r.match('GET', '/users/').type, 'not-found', 'a param never matches an empty segment');
    });

    test('malformed percent-encoding in a param throws a 400', () => {
      const r = make(factory, [['GET', '/users/:id']]);
      assert.throws(() => r.match('GET', '/users/%E0%A4%A'), { status: 400 });
    });

    test('wildcards: named and bare, matching the rest including nothing', () => {
      const r = make(factory, [['GET', '/files/*path'], ['GET', '/static/*']]);
      assert.deepEqual(found(r.match('GET', '/files/a/b/c.txt')).params, { path: 'a/b/c.txt' });
      assert.deepEqual(found(r.match('GET', '/files/')).params, { path: '' });
      assert.deepEqual(found(r.match('GET', '/files')).params, { path: '' });
      assert.deepEqual(found(r.match('GET', '/static/x.css')).params, { '*': 'x.css' });
      assert.equal(r.match('GET', '/filesx').type, 'not-found');
    });

    test('a wildcard keeps an encoded slash encoded', () => {
      const r = make(factory, [['GET', '/files/*path']]);
      assert.deepEqual(found(r.match('GET', '/files/a%2F..%2Fb%20c')).params, { path: 'a%2F..%2Fb c' });
    });

    test('optional segments', () => {
      const r = make(factory, [['GET', '/posts/:id?'], ['GET', '/a/:b?/:c?']]);
      assert.deepEqual(found(r.match('GET', '/posts')).params, {});
      assert.deepEqual(found(r.match('GET', '/posts/3')).params, { id: '3' });
      assert.equal(found(r.match('GET', '/a')).value, 'GET /a/:b?/:c?');
      assert.deepEqual(found(r.match('GET', '/a/1')).params, { b: '1' });
      assert.deepEqual(found(r.match('GET', '/a/1/2')).params, { b: '1', c: '2' });
    });

    test('precedence: static > param > wildcard', () => {
      const r = make(factory, [['GET', '/p/new'], ['GET', '/p/:id'], ['GET', '/p/*rest']]);
      assert.equal(found(r.match('GET', '/p/new')).value, 'GET /p/new');
      assert.equal(found(r.match('GET', '/p/12')).value, 'GET /p/:id');
      assert.equal(found(r.match('GET', '/p/12/x')).value, 'GET /p/*rest');
    });

    test('backtracks out of a static branch that dead-ends', () => {
      const r = make(factory, [['GET', '/a/b'], ['GET', '/a/:x/c'], ['GET', '/a/*']]);
      assert.deepEqual(found(r.match('GET', '/a/b/c')), { value: 'GET /a/:x/c', params: { x: 'b' } });
      assert.deepEqual(found(r.match('GET', '/a/b/d')), { value: 'GET /a/*', params: { '*': 'b/d' } });
    });

    test('backtracks to a lower-precedence route that has the method', () => {
      const r = make(factory, [['POST', '/users/new'], ['GET', '/users/:id']]);
      assert.deepEqual(found(r.match('GET', '/users/new')), { value: 'GET /users/:id', params: { id: 'new' } });
      assert.equal(found(r.match('POST', '/users/new')).value, 'POST /users/new');
    });

    test('HEAD falls back to GET; an explicit HEAD wins', () => {
      const r = make(factory, [['GET', '/a'], ['GET', '/b'], ['HEAD', '/b']]);
      assert.equal(found(r.match('HEAD', '/a')).value, 'GET /a');
      assert.equal(found(r.match('HEAD', '/b')).value, 'HEAD /b');
    });

    test('405 with Allow when the path exists for other methods', () => {
      const r = make(factory, [['GET', '/items'], ['POST', '/items'], ['DELETE', '/items/:id']]);
      assert.deepEqual(r.match('PUT', '/items'), { type: 'method-not-allowed', allow: 'GET, HEAD, OPTIONS, POST' });
      assert.deepEqual(r.match('GET', '/items/3'), { type: 'method-not-allowed', allow: 'DELETE, OPTIONS' });
    });

    test('Allow unites every route the path matches', () => {
      const r = make(factory, [['POST', '/u/new'], ['PUT', '/u/:id']]);
      assert.deepEqual(r.match('GET', '/u/new'), { type: 'method-not-allowed', allow: 'OPTIONS, POST, PUT' });
    });

    test('automatic OPTIONS unless one is registered', () => {
      const r = make(factory, [['GET', '/a'], ['GET', '/b'], ['OPTIONS', '/b']]);
      assert.deepEqual(r.match('OPTIONS', '/a'), { type: 'options', allow: 'GET, HEAD, OPTIONS' });
      assert.equal(found(r.match('OPTIONS', '/b')).value, 'OPTIONS /b');
      assert.equal(r.match('OPTIONS', '/nope').type, 'not-found');
    });

    test('the any-method route matches every method', () => {
      const r = make(factory, [['*', '/any'], ['GET', '/mixed'], ['*', '/mixed']]);
      assert.equal(found(r.match('PATCH', '/any')).value, '* /any');
      assert.equal(found(r.match('GET', '/mixed')).value, 'GET /mixed');
      assert.equal(found(r.match('DELETE', '/mixed')).value, '* /mixed');
    });

    test('methods are matched case-sensitively as sent, registered case-insensitively', () => {
      const r = make(factory, [['get', '/a']]);
      assert.equal(found(r.match('GET', '/a')).value, 'get /a');
    });

    test('registering the same method and path twice throws', () => {
      const r = make(factory, [['GET', '/a/:id']]);
      assert.throws(() => r.add('GET', '/a/:other', 'x'), /already registered/);
      assert.throws(() => r.add('GET', '/posts/:id?/:id', 'x'), /duplicate/);
      assert.throws(() => r.add('GET', '/x/*/y', 'x'), /wildcard/);
      assert.throws(() => r.add('GET', '/x/:a?/y', 'x'), /optional/);
      assert.throws(() => r.add('GET', 'nope', 'x'), /start with/);
    });

    test('trailing slash "redirect" (default): 308 to the path that exists', () => {
      const r = make(factory, [['GET', '/a'], ['GET', '/b/'], ['GET', '/c/:id']]);
      assert.deepEqual(r.match('GET', '/a/'), { type: 'redirect', location: '/a' });
      assert.deepEqual(r.match('GET', '/b'), { type: 'redirect', location: '/b/' });
      assert.deepEqual(r.match('POST', '/c/1/'), { type: 'redirect', location: '/c/1' });
      assert.equal(r.match('GET', '/zzz/').type, 'not-found');
    });

    test('trailing slash "redirect" never makes a protocol-relative Location', () => {
      // Only a route that exists without the slash could trigger the redirect; make one.
      const r = make(factory, [['GET', '//evil.example']]);
      assert.equal(found(r.match('GET', '//evil.example')).value, 'GET //evil.example');
      assert.equal(r.match('GET', '//evil.example/').type, 'not-found');
    });

    test('trailing slash "strict"', () => {
      const r = make(factory, [['GET', '/a'], ['GET', '/b/']], { trailingSlash: 'strict' });
      assert.equal(r.match('GET', '/a/').type, 'not-found');
      assert.equal(r.match('GET', '/b').type, 'not-found');
      assert.equal(found(r.match('GET', '/b/')).value, 'GET /b/');
    });

    test('trailing slash "ignore"', () => {
      const r = make(factory, [['GET', '/a'], ['GET', '/b/'], ['GET', '/']], { trailingSlash: 'ignore' });
      assert.equal(found(r.match('GET', '/a/')).value, 'GET /a');
      assert.equal(found(r.match('GET', '/b')).value, 'GET /b/');
      assert.equal(found(r.match('GET', '/')).value, 'GET /');
    });

    test('case: sensitive by default, insensitive on request (params keep their case)', () => {
      const s = make(factory, [['GET', '/About/:Name']]);
      assert.equal(s.match('GET', '/about/x').type, 'not-found');
      const i = make(factory, [['GET', '/About/:Name']], { case: 'insensitive' });
      assert.deepEqual(found(i.match('GET', '/ABOUT/MiXed')).params, { Name: 'MiXed' });
    });

    test('static patterns are compared percent-encoded', () => {
      const r = make(factory, [['GET', '/café'], ['GET', '/a b']]);
      assert.equal(found(r.match('GET', '/caf%C3%A9')).value, 'GET /café');
      assert.equal(found(r.match('GET', '/a%20b')).value, 'GET /a b');
    });

    test('thousands of routes sharing a param position', () => {
      const r = factory();
      for (let i = 0; i < 5000; i++) r.add('GET', `/r${i}/:id/x${i}`, `r${i}`);
      assert.deepEqual(found(r.match('GET', '/r4999/7/x4999')), { value: 'r4999', params: { id: '7' } });
      assert.equal(r.match('GET', '/r4999/7/x1').type, 'not-found');
    });
  });
}
