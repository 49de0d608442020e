// What goes upstream: the Forwarded element is the same whether formatted per request or kept
// in a route's ForwardedMemo, whatever changes between requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../http/context.ts';
import { forwardedElement } from '../edge/forwarded.ts';
import { ForwardedMemo, upstreamRequestHeaders } from './request-headers.ts';

test('ForwardedMemo gives forwardedElement\'s value for each (peer, scheme, host), in any order', () => {
  const memo = new ForwardedMemo();
  const cases: [string, 'http' | 'https', string | undefined][] = [
    ['127.0.0.1', 'http', 'a.test'], ['127.0.0.1', 'http', 'a.test'], ['127.0.0.1', 'http', 'b.test:8080'],
    ['::1', 'http', 'b.test:8080'], ['::1', 'https', 'b.test:8080'], ['::1', 'https', undefined], ['::ffff:10.0.0.1', 'https', undefined],
    ['127.0.0.1', 'http', 'a.test'],
  ];
  for (const [peer, scheme, host] of cases) assert.equal(memo.element(peer, scheme, host), forwardedElement(peer, scheme, host));
});

test('upstreamRequestHeaders: the same fields with or without a memo', () => {
  const memo = new ForwardedMemo();
  for (const [peer, host] of [['192.0.2.1', 'shop.test'], ['192.0.2.2', 'shop.test'], ['192.0.2.2', 'other.test:81']]) {
    const ctx = new RequestContext(peer, false, peer, 1, 'http', host);
    const headers = { host, 'user-agent': 'x', forwarded: 'for=evil', connection: 'x-hop', 'x-hop': '1' };
    const plain = upstreamRequestHeaders(headers, ctx);
    assert.deepEqual(upstreamRequestHeaders(headers, ctx, memo), plain);
    assert.equal(plain.forwarded, forwardedElement(peer, 'http', host));
    assert.equal(plain['x-hop'], undefined);
  }
});
