// RFC 7239 parsing and client resolution from trusted hops, table-driven, both header styles.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { forwardedElement, parseForwarded } from './forwarded.ts';
import { resolveClient, trustedPeers } from './trusted-peers.ts';

describe('parseForwarded (RFC 7239 §4)', () => {
  const cases: [string, ReturnType<typeof parseForwarded>][] = [
    ['for=192.0.2.60;proto=http;by=203.0.113.43', [{ for: '192.0.2.60', proto: 'http', by: '203.0.113.43' }]],
    ['For="[2001:db8:cafe::17]:4711"', [{ for: '2001:db8:cafe::17' }]],
    ['for="[2001:db8::1]"', [{ for: '2001:db8::1' }]],
    ['for=192.0.2.43, for=198.51.100.17', [{ for: '192.0.2.43' }, { for: '198.51.100.17' }]],
    ['for="192.0.2.43:47011";host="example.com:8080";proto=HTTPS', [{ for: '192.0.2.43', host: 'example.com:8080', proto: 'https' }]],
    ['for=unknown, for=_hidden;proto=https', [{ for: 'unknown' }, { for: '_hidden', proto: 'https' }]],
    ['for="a;b=c"', null], // a quoted ; is not a separator, and what it leaves is no address
    ['for=192.0.2.1;ext="x, y";proto=http', [{ for: '192.0.2.1', proto: 'http' }]],
    ['for=[2001:db8::1]', null], // brackets need quoting: [ is not a token character
    ['for="[2001:db8::1"', null],
    ['for=2001:db8::1', null],
    ['for=999.1.1.1', null],
    ['for="192.0.2.1', null],
    ['for', null],
    ['for=192.0.2.1;proto=ht tp', null],
    [',, for=192.0.2.1 ,', [{ for: '192.0.2.1' }]],
  ];
  for (const [value, want] of cases) {
    it(JSON.stringify(value), () => assert.deepEqual(parseForwarded(value), want));
  }
});

describe('forwardedElement', () => {
  it('quotes IPv6 and hosts with a port, unmaps IPv4-mapped peers', () => {
    assert.equal(forwardedElement('2001:db8::1', 'https', 'example.com'), 'for="[2001:db8::1]";proto=https;host=example.com');
    assert.equal(forwardedElement('::ffff:192.0.2.9', 'http', 'example.com:8080'), 'for=192.0.2.9;proto=http;host="example.com:8080"');
    assert.equal(forwardedElement('192.0.2.9', 'http', undefined), 'for=192.0.2.9;proto=http');
    assert.deepEqual(parseForwarded(forwardedElement('2001:db8::1', 'https', 'h:1')), [{ for: '2001:db8::1', proto: 'https', host: 'h:1' }]);
  });
});

describe('resolveClient: who the client is', () => {
  const trusted = trustedPeers(['10.0.0.0/8', '127.0.0.1', 'fd00::/8']);
  const cases: [string, string, Record<string, string>, string, 'http' | 'https' | null][] = [
    ['untrusted peer: its headers are ignored', '203.0.113.9', { 'x-forwarded-for': '1.2.3.4', forwarded: 'for=1.2.3.4;proto=https', 'x-forwarded-proto': 'https' }, '203.0.113.9', null],
    ['trusted peer, XFF of one hop', '10.0.0.1', { 'x-forwarded-for': '198.51.100.7', 'x-forwarded-proto': 'https' }, '198.51.100.7', 'https'],
    ['XFF: a client-written left part is skipped', '10.0.0.1', { 'x-forwarded-for': '6.6.6.6, 198.51.100.7, 10.0.0.2' }, '198.51.100.7', null],
    ['XFF: proto aligned with the chosen hop', '10.0.0.1', { 'x-forwarded-for': '198.51.100.7, 10.0.0.2', 'x-forwarded-proto': 'https, http' }, '198.51.100.7', 'https'],
    ['XFF: IPv6 hop', '127.0.0.1', { 'x-forwarded-for': '2001:db8::7' }, '2001:db8::7', null],
    ['XFF: garbage means the socket', '10.0.0.1', { 'x-forwarded-for': 'evil, 198.51.100.7' }, '198.51.100.7', null],
    ['XFF: garbage at the right means the socket', '10.0.0.1', { 'x-forwarded-for': '198.51.100.7, nope' }, '10.0.0.1', null],
    ['XFF: every hop trusted: the leftmost', '10.0.0.1', { 'x-forwarded-for': '10.0.0.3, 10.0.0.2' }, '10.0.0.3', null],
    ['no forwarded headers: the peer, XFP believed', '10.0.0.1', { 'x-forwarded-proto': 'https' }, '10.0.0.1', 'https'],
    ['XFP with a bogus scheme is ignored', '10.0.0.1', { 'x-forwarded-proto': 'gopher' }, '10.0.0.1', null],
    ['Forwarded: quoted IPv6 with port', '10.0.0.1', { forwarded: 'for="[2001:db8::1]:4711";proto=https' }, '2001:db8::1', 'https'],
    ['Forwarded wins over XFF', '10.0.0.1', { forwarded: 'for=198.51.100.1', 'x-forwarded-for': '198.51.100.2' }, '198.51.100.1', null],
    ['Forwarded: walk past trusted hops, proto of the client hop', '10.0.0.1', { forwarded: 'for=6.6.6.6, for=198.51.100.7;proto=https, for=10.0.0.2;proto=http' }, '198.51.100.7', 'https'],
    ['Forwarded: trusted IPv6 proxy hop', 'fd00::1', { forwarded: 'for=198.51.100.7;proto=http, for="[fd00::2]"' }, '198.51.100.7', 'http'],
    ['Forwarded: unknown stops at the last known hop', '10.0.0.1', { forwarded: 'for=198.51.100.7, for=unknown, for=10.0.0.2' }, '10.0.0.2', null],
    ['Forwarded: obfuscated client stops at the peer', '10.0.0.1', { forwarded: 'for=_abc' }, '10.0.0.1', null],
    ['Forwarded: malformed means the socket', '10.0.0.1', { forwarded: 'for="[2001:db8::1', 'x-forwarded-for': '198.51.100.2' }, '10.0.0.1', null],
    ['IPv4-mapped trusted peer', '::ffff:10.0.0.1', { 'x-forwarded-for': '198.51.100.7' }, '198.51.100.7', null],
  ];
  for (const [name, peer, headers, address, proto] of cases) {
    it(name, () => assert.deepEqual(resolveClient(peer, headers, trusted), { address, proto }));
  }
});
