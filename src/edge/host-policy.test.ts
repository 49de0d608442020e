// Redirect and HSTS decisions, table-driven: each row is one request and the answer the edge gives.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { hostPolicy, type HostPolicyConfig } from './host-policy.ts';

const none: HostPolicyConfig = { redirectToHttps: null, hsts: null, canonicalHosts: {} };
const toHttps: HostPolicyConfig = { ...none, redirectToHttps: { port: 443, hosts: [] } };

describe('hostPolicy redirects', () => {
  const cases: [string, HostPolicyConfig, [method: string, scheme: 'http' | 'https', host: string, hostHeader: string, target: string], string | null][] = [
    ['GET http → 301 https, path and query kept', toHttps, ['GET', 'http', 'example.com', 'example.com', '/a/b?x=1'], '301 https://example.com/a/b?x=1'],
    ['HEAD keeps 301', toHttps, ['HEAD', 'http', 'example.com', 'example.com', '/'], '301 https://example.com/'],
    ['POST → 308, so method and body survive (RFC 9110 §15.4.9)', toHttps, ['POST', 'http', 'example.com', 'example.com', '/form'], '308 https://example.com/form'],
    ['the http port in Host is dropped for the https one', toHttps, ['GET', 'http', 'example.com', 'example.com:8080', '/'], '301 https://example.com/'],
    ['a non-default https port is named', { ...none, redirectToHttps: { port: 8443, hosts: [] } }, ['GET', 'http', 'example.com', 'example.com:8080', '/'], '301 https://example.com:8443/'],
    ['IPv6 literal hosts stay bracketed', toHttps, ['GET', 'http', '[::1]', '[::1]:8080', '/'], '301 https://[::1]/'],
    ['already https: nothing to do', toHttps, ['GET', 'https', 'example.com', 'example.com', '/'], null],
    ['ACME HTTP-01 challenges stay on http (RFC 8555 §8.3)', toHttps, ['GET', 'http', 'example.com', 'example.com', '/.well-known/acme-challenge/tok'], null],
    ['a host outside `hosts` is served as is', { ...none, redirectToHttps: { port: 443, hosts: ['shop.test'] } }, ['GET', 'http', 'other.test', 'other.test', '/'], null],
    ['a wildcard in `hosts` matches subdomains', { ...none, redirectToHttps: { port: 443, hosts: ['*.shop.test'] } }, ['GET', 'http', 'a.shop.test', 'a.shop.test', '/'], '301 https://a.shop.test/'],
    ['a wildcard does not match its parent', { ...none, redirectToHttps: { port: 443, hosts: ['*.shop.test'] } }, ['GET', 'http', 'shop.test', 'shop.test', '/'], null],
    ['absolute-form target: redirected to "/"', toHttps, ['GET', 'http', 'example.com', 'example.com', 'http://evil.test/x'], '301 https://example.com/'],
    ['no Host (HTTP/1.0): no redirect', toHttps, ['GET', 'http', '', '', '/'], null],
    ['www → apex on https keeps scheme and port', { ...none, canonicalHosts: { 'www.example.com': 'example.com' } }, ['GET', 'https', 'www.example.com', 'www.example.com:8443', '/p'], '301 https://example.com:8443/p'],
    ['apex → www', { ...none, canonicalHosts: { 'example.com': 'www.example.com' } }, ['PUT', 'http', 'example.com', 'example.com', '/p'], '308 http://www.example.com/p'],
    ['http www → https apex in one hop', { ...toHttps, canonicalHosts: { 'www.example.com': 'example.com' } }, ['GET', 'http', 'www.example.com', 'www.example.com', '/'], '301 https://example.com/'],
    ['the canonical host itself is not redirected again', { ...none, canonicalHosts: { 'www.example.com': 'example.com' } }, ['GET', 'https', 'example.com', 'example.com', '/'], null],
  ];
  for (const [name, config, [method, scheme, host, header, target], want] of cases) {
    it(name, () => {
      const r = hostPolicy(config)?.redirect(method, scheme, host, header, target) ?? null;
      assert.equal(r === null ? null : `${r.status} ${r.location}`, want);
    });
  }

  it('no policy configured: null, so the edge skips the step entirely', () => {
    assert.equal(hostPolicy(none), null);
  });
});

describe('hostPolicy HSTS (RFC 6797 §6.1)', () => {
  it('formats max-age, includeSubDomains and preload', () => {
    const p = hostPolicy({ ...none, hsts: { maxAge: 63072000, includeSubDomains: true, preload: true, hosts: [] } });
    assert.equal(p?.hsts('example.com'), 'max-age=63072000; includeSubDomains; preload');
    assert.equal(hostPolicy({ ...none, hsts: { maxAge: 0, includeSubDomains: false, preload: false, hosts: [] } })?.hsts('x.test'), 'max-age=0');
  });

  it('only for the listed hosts when `hosts` is given', () => {
    const p = hostPolicy({ ...none, hsts: { maxAge: 300, includeSubDomains: false, preload: false, hosts: ['shop.test', '*.api.test'] } });
    assert.equal(p?.hsts('shop.test'), 'max-age=300');
    assert.equal(p?.hsts('v1.api.test'), 'max-age=300');
    assert.equal(p?.hsts('other.test'), null);
  });
});
