// HTTP-01 answers on the stack's cleartext listeners (both engines), ahead of redirects and
// routes; and the `tls.acme` config as validateConfig resolves it.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../config/validate.ts';
import { startStack } from '../../../test/helpers/stack.ts';

for (const engine of ['node', 'portico'] as const) {
  it(`answers a pending HTTP-01 token before the https redirect (engine ${engine})`, async () => {
    const s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, engine, redirectToHttps: true }], routes: [{ path: '/', respond: { status: 200, body: 'routed' } }] });
    try {
      s.stack.acmeChallenges.set('tok-1', 'tok-1.thumbprint');
      const hit = await fetch(`${s.url}/.well-known/acme-challenge/tok-1`, { headers: { host: 'shop.test' } });
      assert.equal(hit.status, 200);
      assert.equal(await hit.text(), 'tok-1.thumbprint');
      // An unknown token is not ours: it goes on to routing (never redirected: host-policy.ts).
      const miss = await fetch(`${s.url}/.well-known/acme-challenge/other`, { headers: { host: 'shop.test' }, redirect: 'manual' });
      assert.equal(await miss.text(), 'routed');
      // Everything else is still redirected.
      const page = await fetch(`${s.url}/x`, { headers: { host: 'shop.test' }, redirect: 'manual' });
      await page.arrayBuffer();
      assert.equal(page.status, 301);
      s.stack.acmeChallenges.delete('tok-1');
      const gone = await fetch(`${s.url}/.well-known/acme-challenge/tok-1`, { headers: { host: 'shop.test' } });
      assert.equal(await gone.text(), 'routed');
    } finally {
      await s.close();
    }
  });
}

it('resolves tls.acme with its defaults, and names bad fields', () => {
  const ok = validateConfig({ listeners: [{ port: 8443, tls: { acme: { directory: 'https://acme.example/dir', email: 'ops@example.com' } } }], routes: [{ path: '/', respond: {} }] }, '/srv');
  assert.ok(ok.ok);
  const tls = ok.config.listeners[0].tls;
  assert.equal(tls?.kind, 'acme');
  assert.deepEqual(tls?.kind === 'acme' ? tls.acme : null, {
    directory: 'https://acme.example/dir', email: 'ops@example.com', hosts: null, storage: null,
    renewBefore: 30 * 86_400_000, challenge: 'http-01', caCert: null, redis: null,
  });
  const days = validateConfig({ listeners: [{ port: 8443, tls: { acme: { directory: 'https://acme.example/dir', email: 'ops@example.com', renewBefore: '45d', storage: 'acme', hosts: ['Shop.Example'] } } }], routes: [{ path: '/', respond: {} }] }, '/srv');
  assert.ok(days.ok);
  const acme = days.config.listeners[0].tls;
  assert.equal(acme?.kind === 'acme' ? acme.acme.renewBefore : 0, 45 * 86_400_000);
  assert.equal(acme?.kind === 'acme' ? acme.acme.storage : '', '/srv/acme');
  assert.deepEqual(acme?.kind === 'acme' ? acme.acme.hosts : [], ['shop.example']);
  const alpn = validateConfig({ listeners: [{ port: 8443, tls: { acme: { directory: 'https://acme.example/dir', email: 'ops@example.com', challenge: 'tls-alpn-01' } } }], routes: [{ path: '/', respond: {} }] }, '/srv');
  assert.ok(alpn.ok);
  const alpnTls = alpn.config.listeners[0].tls;
  assert.equal(alpnTls?.kind === 'acme' ? alpnTls.acme.challenge : null, 'tls-alpn-01');
  const bad = validateConfig({ listeners: [{ port: 8443, tls: { acme: { directory: 'http://acme.example/dir', email: 'nope', challenge: 'dns-01' } } }], routes: [{ path: '/', respond: {} }] } as never, '/srv');
  assert.equal(bad.ok, false);
  const paths = bad.ok ? [] : bad.issues.map((i) => i.path);
  assert.deepEqual(paths, ['listeners[0].tls.acme.directory', 'listeners[0].tls.acme.email', 'listeners[0].tls.acme.challenge']);
  const noCa = validateConfig({ listeners: [{ port: 8443, tls: { acme: { directory: 'https://acme.example/dir', email: 'ops@example.com', caCert: 'missing-ca.pem' } } }], routes: [{ path: '/', respond: {} }] }, '/nonexistent-dir');
  assert.deepEqual(noCa.ok ? [] : noCa.issues, [{ path: 'listeners[0].tls.acme.caCert', message: 'file not found: /nonexistent-dir/missing-ca.pem' }]);
});
