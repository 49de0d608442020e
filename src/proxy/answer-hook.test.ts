// The proxy's AnswerHook (forward.ts): the Location rewrite of a route with no request rules runs
// as the upstream's answer arrives, instead of as a `.then` around the proxy, with the same result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { scriptedServer } from '../../test/helpers/servers.ts';
import { startStack } from '../../test/helpers/stack.ts';
import { forwardHandler, isForwardingHandler } from './forward.ts';
import type { UpstreamPool } from '../balancer/upstream-pool.ts';

test('a forward handler takes a hook as a new handler, which takes the next hook too', () => {
  const h = forwardHandler({ pool: {} as UpstreamPool, stripPrefix: false });
  assert.ok(isForwardingHandler(h));
  const hooked = h.withAnswerHook((res) => res);
  assert.notEqual(hooked, h);
  assert.ok(isForwardingHandler(hooked), 'a hooked handler takes the next layer\'s hook too');
  assert.equal(isForwardingHandler(() => ({ status: 200, headers: {}, body: null })), false);
});

test('Location from a route with no request rules is rewritten on arrival, on both upstream clients', async () => {
  const upstream = await scriptedServer((req, res) => {
    if (req.url === '/login') return res.writeHead(302, { location: `http://127.0.0.1:${upstream.port}/account/home`, 'set-cookie': 'a=1' }).end();
    res.writeHead(200, { 'content-location': `http://127.0.0.1:${upstream.port}/x` }).end('ok');
  });
  for (const client of ['portico', 'undici'] as const) {
    const s = await startStack({
      pools: { web: { servers: [{ url: upstream.url }], client } },
      routes: [{ path: '/app', upstream: 'web', stripPrefix: true }],
    });
    try {
      const res = await request(`${s.url}/app/login`, { headers: { host: 'www.example.test' } });
      await res.body.text();
      assert.equal(res.statusCode, 302, client);
      assert.equal(res.headers.location, 'http://www.example.test/app/account/home', client);
      assert.equal(res.headers['set-cookie'], 'a=1', client);
      const other = await request(`${s.url}/app/page`, { headers: { host: 'www.example.test' } });
      assert.equal(await other.body.text(), 'ok');
      assert.equal(other.headers['content-location'], 'http://www.example.test/app/x', client);
    } finally {
      await s.close();
    }
  }
  await upstream.close();
});
