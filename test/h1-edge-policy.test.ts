// The portico engine in the stack: config validation takes it on every kind of listener, host
// policy redirects are answered before any route, and access-log lines carry its byte counts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../src/config/validate.ts';
import { startStack, type TestStack } from './helpers/stack.ts';
import { exchange } from './helpers/raw-http.ts';

const stacks: TestStack[] = [];
after(async () => { for (const s of stacks) await s.close(); });

test('engine "portico" (the default) is accepted on plain, https and PROXY protocol listeners; "node" on request; unknown engines are refused', () => {
  const base = { routes: [{ path: '/', respond: { status: 200, body: 'x' } }] };
  const tls = validateConfig({ ...base, listeners: [{ port: 8443, tls: 'dev', engine: 'portico' }] }, process.cwd());
  assert.ok(tls.ok && tls.config.listeners[0].engine === 'portico', JSON.stringify(tls));
  const pp = validateConfig({ ...base, listeners: [{ port: 8080, proxyProtocol: true, engine: 'portico' }] }, process.cwd());
  assert.ok(pp.ok && pp.config.listeners[0].engine === 'portico', JSON.stringify(pp));
  const bad = validateConfig({ ...base, listeners: [{ port: 8080, engine: 'uws' }] }, process.cwd());
  assert.ok(!bad.ok && bad.issues.some((i) => i.path === 'listeners[0].engine'));
  const node = validateConfig({ ...base, listeners: [{ port: 8080, engine: 'node' }] }, process.cwd());
  assert.ok(node.ok);
  assert.equal(node.config.listeners[0].engine, 'node');
  // The default: Portico's own framing (docs/io-model.md), node:http on request.
  const dflt = validateConfig({ ...base, listeners: [{ port: 8080 }] }, process.cwd());
  assert.ok(dflt.ok);
  assert.equal(dflt.config.listeners[0].engine, 'portico');
});

test('redirectToHttps and canonical hosts are answered by the portico engine before any route', async () => {
  const s = await startStack({
    listeners: [{ host: '127.0.0.1', port: 0, engine: 'portico', redirectToHttps: true, canonicalHosts: { 'www.shop.test': 'shop.test' } }],
    routes: [{ path: '/', respond: { status: 200, body: 'route' } }],
  });
  stacks.push(s);
  const port = Number(new URL(s.url).port);
  const get = await exchange(port, 'GET /a?b=1 HTTP/1.1\r\nHost: www.shop.test\r\nConnection: close\r\n\r\n');
  assert.match(get.text, /^HTTP\/1\.1 301 [^]*\r\nlocation: https:\/\/shop\.test\/a\?b=1\r\n/i);
  const post = await exchange(port, 'POST /a HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  assert.match(post.text, /^HTTP\/1\.1 308 /);
  assert.doesNotMatch(post.text, /route/);
});
