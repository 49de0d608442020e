// The upstream parser's checked fields (PorticoResponse.checkedFields): the edge sends a field the
// strict parser stored without checking it again, and still refuses any field a layer added or
// changed into something that could split the response (RFC 9110 §5.5, RFC 9112 §4).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResponseHeadParser } from './h1-client/response-head.ts';
import { serializeFields } from '../edge/h1/http1-syntax.ts';
import { serializeRequestHead } from './h1-client/request-head.ts';
import { Stack } from '../stack.ts';
import { validateConfig } from '../config/validate.ts';
import { createLogger } from '../observability/logger.ts';
import type { Layer } from '../http/types.ts';
import { HOP_BY_HOP } from '../http/headers.ts';

function parsed(fields: string): ResponseHeadParser {
  const p = new ResponseHeadParser(16 * 1024);
  const end = p.parse(Buffer.from(`HTTP/1.1 200 OK\r\n${fields}\r\n`, 'latin1'), 'GET');
  assert.notEqual(end, -1);
  return p;
}

const FIELDS = 'Server: up\r\nContent-Length: 2\r\nVary: a\r\nX-Up: fine\r\nVary: b\r\nSet-Cookie: a=1\r\nConnection: keep-alive\r\n';

test('fields the parser stored go out as a full check would send them', () => {
  const p = parsed(FIELDS);
  assert.deepEqual(p.headers, { server: 'up', 'content-length': '2', vary: 'a, b', 'x-up': 'fine', 'set-cookie': ['a=1'] });
  const text = serializeFields(p.headers, p.checked);
  assert.equal(text, serializeFields(p.headers, null));
  assert.equal(text, 'server: up\r\nvary: a, b\r\nx-up: fine\r\nset-cookie: a=1\r\n');
});

test('a value a layer changed in place is checked again and refused when it could split the response', () => {
  const p = parsed(FIELDS);
  p.headers['x-up'] = 'fine\r\nx-injected: 1';
  assert.equal(serializeFields(p.headers, p.checked), null);
  const q = parsed(FIELDS);
  q.headers.server = 'up\0';
  assert.equal(serializeFields(q.headers, q.checked), null);
});

test('a field a layer added, re-added or pushed to is checked', () => {
  const added = parsed(FIELDS);
  added.headers['x-new'] = 'a\nb';
  assert.equal(serializeFields(added.headers, added.checked), null);
  const badName = parsed(FIELDS);
  badName.headers['x bad'] = 'ok';
  assert.equal(serializeFields(badName.headers, badName.checked), null);
  // Removed then set again: it moves to the end of the object's order, past its pair.
  const moved = parsed(FIELDS);
  delete moved.headers.server;
  moved.headers.server = 'a\rb';
  assert.equal(serializeFields(moved.headers, moved.checked), null);
  // The parser's set-cookie array is the same object after a push: never taken as checked.
  const cookies = parsed(FIELDS);
  (cookies.headers['set-cookie'] as string[]).push('b=2\r\nx-injected: 1');
  assert.equal(serializeFields(cookies.headers, cookies.checked), null);
});

test('through the stack: a layer that breaks a proxied field gets a 502, never a split response', async () => {
  const upstream = net.createServer((s) => {
    s.on('data', () => s.write('HTTP/1.1 200 OK\r\nX-Up: fine\r\nContent-Length: 2\r\n\r\nok'));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const port = (upstream.address() as net.AddressInfo).port;
  let value = 'fine';
  const mutate: Layer = {
    name: 'mutate',
    wrap: (next) => async (req, ctx) => {
      const res = await next(req, ctx);
      res.headers['x-up'] = value;
      return res;
    },
  };
  const result = validateConfig({
    listeners: [{ host: '127.0.0.1', port: 0 }], runtimeDir: mkdtempSync(join(tmpdir(), 'portico-test-')),
    pools: { up: { servers: [{ url: `http://127.0.0.1:${port}` }], client: 'portico' } }, routes: [{ path: '/', upstream: 'up' }],
  }, process.cwd());
  assert.ok(result.ok);
  const stack = new Stack(result.config, { log: createLogger({ level: 'error', write: () => {} }), layers: [mutate] });
  await stack.start();
  const url = `http://127.0.0.1:${stack.addresses()[0].port}/`;
  try {
    const good = await fetch(url);
    assert.equal(good.status, 200);
    assert.equal(good.headers.get('x-up'), 'fine');
    assert.equal(await good.text(), 'ok');
    value = 'bad\r\nx-injected: 1';
    const bad = await fetch(url);
    assert.equal(bad.status, 502);
    assert.equal(bad.headers.get('x-portico-error'), 'BAD_RESPONSE_HEADER');
    assert.equal(bad.headers.get('x-injected'), null);
    await bad.arrayBuffer();
  } finally {
    await stack.stop(1000);
    upstream.close();
  }
});

test('the parser drops every hop-by-hop field (HOP_BY_HOP), whatever its case, and none is taken as checked', () => {
  for (const name of HOP_BY_HOP) {
    const spelled = name.toUpperCase();
    const value = name === 'transfer-encoding' ? 'chunked' : name === 'connection' ? 'keep-alive' : 'x';
    const p = parsed(`${spelled}: ${value}\r\nX-Up: fine\r\n`);
    assert.deepEqual(p.headers, { 'x-up': 'fine' }, name);
    assert.deepEqual(p.checked, ['x-up', 'fine'], name);
  }
});

test('a bad byte in any value, request or response, refuses the head', () => {
  const base = { host: 'example.test', accept: '*/*', 'x-a': 'one', 'x-b': 'two' };
  const req = (headers: Record<string, string>) => ({ method: 'GET', path: '/', headers, body: null });
  assert.match(serializeRequestHead(req(base), 'up'), /\r\nx-b: two\r\n\r\n$/);
  for (const [name, value] of [['x-a', 'o\r\nx-injected: 1'], ['x-b', 'tw\0o'], ['accept', '\x7f'], ['x-b', 'caf\u20ac']]) {
    assert.throws(() => serializeRequestHead(req({ ...base, [name]: value }), 'up'), new RegExp(`invalid request field "${name}"`));
  }
  const fields = { server: 'up', 'x-a': 'one', 'x-b': 'two', 'set-cookie': ['a=1', 'b=2'] };
  assert.equal(serializeFields(fields), 'server: up\r\nx-a: one\r\nx-b: two\r\nset-cookie: a=1\r\nset-cookie: b=2\r\n');
  assert.equal(serializeFields({ ...fields, 'x-b': 'tw\ro' }), null);
  assert.equal(serializeFields({ ...fields, 'set-cookie': ['a=1', 'b=2\n'] }), null);
  assert.equal(serializeFields({ ...fields, server: '\u0100' }), null);
});

test('the request line and Host are still refused when they could break the head', () => {
  const head = (method: string, path: string, headers: Record<string, string> = { host: 'example.test' }) =>
    () => serializeRequestHead({ method, path, headers, body: null }, 'up');
  assert.match(head('GET', '/a?b=%20')(), /^GET \/a\?b=%20 HTTP\/1\.1\r\nhost: example\.test\r\n/);
  assert.match(head('M-SEARCH', '/caf\xe9')(), /^M-SEARCH \/caf\xe9 HTTP\/1\.1\r\n/);
  for (const method of ['', 'GE T', 'GET\r\n', 'G\u0100T', 'GET(']) assert.throws(head(method, '/'), /invalid request line/, JSON.stringify(method));
  for (const path of ['', '/a b', '/a\tb', '/a\r\nx: y', '/\x7f', '/\u0100', '/\0']) assert.throws(head('GET', path), /invalid request line/, JSON.stringify(path));
  assert.throws(head('GET', '/', { host: 'a\r\nx-injected: 1' }), /invalid host field/);
  assert.throws(head('GET', '/', { host: 'ok', 'x-a': 'fine', 'x-b': 'b\nad' }), /invalid request field "x-b"/);
});

test('writer-owned names are never copied and any other name must be a token, common or not', () => {
  assert.equal(serializeFields({ 'transfer-encoding': 'chunked', 'content-length': '5', connection: 'close', 'x-a': 'b', accept: 'c' }), 'x-a: b\r\naccept: c\r\n');
  for (const bad of ['x(y', 'x y', '', 'caf\xe9']) assert.equal(serializeFields({ [bad]: 'v' }), null, JSON.stringify(bad));
  const head = serializeRequestHead({ method: 'POST', path: '/', headers: { host: 'h', expect: '100-continue', connection: 'x-a', te: 'trailers', 'content-length': '3', 'x-a': 'b' }, body: null }, 'up');
  assert.equal(head, 'POST / HTTP/1.1\r\nhost: h\r\nx-a: b\r\n\r\n');
  for (const bad of ['x(y', 'x y', 'caf\xe9']) assert.throws(() => serializeRequestHead({ method: 'GET', path: '/', headers: { host: 'h', [bad]: 'v' }, body: null }, 'up'), /invalid request field/);
});

test('field names come out lowercased whether or not they are among the common ones', () => {
  const p = parsed('X-REQUEST-ID: a\r\nx-Request-Ie: b\r\nContent-TYPE: c\r\nContent_Type: d\r\nX-Real-I1: e\r\nACCEPT-ranges: f\r\n');
  assert.deepEqual(Object.keys(p.headers), ['x-request-id', 'x-request-ie', 'content-type', 'content_type', 'x-real-i1', 'accept-ranges']);
});
