// Pool `tls` and `http2`: shapes, defaults, the rules tying them to https:// servers, and the
// file checks (missing, not PEM, a key that is not the certificate's) that `portico check` reports.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateConfig } from './validate.ts';
import { makeTestPki, type TestPki } from '../../test/helpers/test-pki.ts';

let pki: TestPki;
before(async () => { pki = await makeTestPki(); });
after(() => pki.remove());

const HTTPS = 'https://api.internal:8443';
const config = (pool: Record<string, unknown>, url = HTTPS) => ({ pools: { web: { servers: [{ url }], ...pool } }, routes: [{ path: '/', upstream: 'web' }] });

function resolved(pool: Record<string, unknown>, url = HTTPS) {
  const r = validateConfig(config(pool, url), pki.dir);
  assert.ok(r.ok, r.ok ? '' : r.issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
  return r.config.pools.web;
}

function issues(pool: Record<string, unknown>, url = HTTPS): string[] {
  const r = validateConfig(config(pool, url), pki.dir);
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
}

test('https servers resolve with secure addresses; tls paths are made absolute, defaults filled in', () => {
  const none = resolved({});
  assert.deepEqual(none.servers[0].address, { kind: 'tcp', host: 'api.internal', port: 8443, secure: true });
  assert.equal(none.servers[0].url, HTTPS);
  assert.equal(none.tls, null);
  assert.equal(none.http2, false);
  assert.deepEqual(resolved({ tls: { ca: 'ca.pem', servername: 'API.Internal' }, http2: true }).tls, {
    ca: [join(pki.dir, 'ca.pem')], servername: 'api.internal', rejectUnauthorized: true, cert: null, key: null,
  });
  assert.deepEqual(resolved({ tls: { ca: ['ca.pem', pki.otherCa], rejectUnauthorized: false, cert: 'client.pem', key: 'client-key.pem' } }).tls, {
    ca: [join(pki.dir, 'ca.pem'), pki.otherCa], servername: null, rejectUnauthorized: false, cert: join(pki.dir, 'client.pem'), key: join(pki.dir, 'client-key.pem'),
  });
  assert.equal(resolved({ http2: true }).http2, true);
});

test('tls and http2 belong to https:// servers', () => {
  assert.deepEqual(issues({ tls: { ca: 'ca.pem' } }, 'http://127.0.0.1:3000'), [
    'pools.web.tls: "tls" applies to https:// servers and this pool has none (write the servers as "https://host:port")',
  ]);
  // Mixed pools are fine for tls (it applies to the https ones), not for http2.
  const mixed = { pools: { web: { servers: [{ url: HTTPS }, { url: 'http://127.0.0.1:3000' }], tls: { ca: 'ca.pem' }, http2: true } }, routes: [] };
  const r = validateConfig(mixed, pki.dir);
  assert.deepEqual(r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`), [
    'pools.web.http2: "http2" needs every server to be https:// (h2 is negotiated by ALPN over TLS; cleartext h2c is not supported), but servers[1] is "http://127.0.0.1:3000"',
  ]);
  assert.deepEqual(issues({ http2: true }, 'unix:/run/app.sock').length, 1);
  const srv = { pools: { web: { discovery: { type: 'dns-srv', name: '_https._tcp.web.test' }, tls: {}, http2: true } }, routes: [] };
  const s = validateConfig(srv, pki.dir);
  assert.deepEqual(s.ok ? [] : s.issues.map((i) => i.message), [
    '"tls" is not supported with discovery "dns-srv" yet (SRV answers become http:// servers)',
    '"http2" needs https:// servers, and discovery "dns-srv" gives http:// ones',
  ]);
});

test('tls fields: each mistake named at its path', () => {
  assert.deepEqual(issues({ tls: { cert: 'client.pem' } }), ['pools.web.tls.key: missing: a client certificate ("cert") needs its private key ("key")']);
  assert.deepEqual(issues({ tls: { key: 'client-key.pem' } }), ['pools.web.tls.cert: missing: a client key ("key") needs its certificate ("cert")']);
  assert.deepEqual(issues({ tls: { servername: '10.0.0.1' } }), ['pools.web.tls.servername: expected a host name like "api.internal" (SNI cannot carry an IP address, RFC 6066 §3), got "10.0.0.1"']);
  assert.deepEqual(issues({ tls: { ca: [] } }), ['pools.web.tls.ca: expected a PEM file path or a non-empty list of them, got a list']);
  assert.deepEqual(issues({ tls: { rejectUnauthorised: false } }), ['pools.web.tls.rejectUnauthorised: unknown field (did you mean "rejectUnauthorized"?)']);
  assert.match(issues({ tls: { rejectUnauthorized: 'no' } })[0], /^pools\.web\.tls\.rejectUnauthorized: expected true or false/);
  assert.match(issues({ http2: 'yes' })[0], /^pools\.web\.http2: expected true or false/);
});

test('tls files: missing, not a certificate, not a key, or a key that is not the certificate\'s', () => {
  writeFileSync(join(pki.dir, 'junk.pem'), 'not pem\n');
  assert.deepEqual(issues({ tls: { ca: 'nope.pem' } }), [`pools.web.tls.ca: file not found: ${join(pki.dir, 'nope.pem')}`]);
  assert.deepEqual(issues({ tls: { ca: ['ca.pem', 'junk.pem'] } }), [`pools.web.tls.ca[1]: not a PEM certificate: ${join(pki.dir, 'junk.pem')}`]);
  assert.deepEqual(issues({ tls: { ca: '.' } }), [`pools.web.tls.ca: expected a PEM certificate file, got a directory: ${pki.dir}`]);
  assert.deepEqual(issues({ tls: { cert: 'client.pem', key: 'junk.pem' } }), [`pools.web.tls.key: not an unencrypted PEM private key: ${join(pki.dir, 'junk.pem')}`]);
  assert.deepEqual(issues({ tls: { cert: 'client.pem', key: 'server-key.pem' } }), [`pools.web.tls.key: this key does not belong to the certificate in ${join(pki.dir, 'client.pem')}`]);
  assert.deepEqual(issues({ tls: { cert: 'client-key.pem', key: 'client-key.pem' } }), [`pools.web.tls.cert: not a PEM certificate: ${join(pki.dir, 'client-key.pem')}`]);
});
