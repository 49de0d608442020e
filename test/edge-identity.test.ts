// Client identity through the stack: forwarded facts believed from trusted peers only, and the
// chain rewritten for the upstream (X-Forwarded-For, X-Real-IP and RFC 7239 Forwarded), on both
// edge engines.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startStack } from './helpers/stack.ts';
import { scriptedServer } from './helpers/servers.ts';

async function echoUpstream() {
  return scriptedServer((req, res) => res.end(JSON.stringify(req.headers)));
}

function get(port: number, path: string, headers: Record<string, string>): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    }).on('error', reject);
  });
}

for (const engine of ['node', 'portico'] as const) describe(`${engine} engine`, () => {
  describe('client identity through the stack', () => {
    for (const [trust, client, forwarded, realIp] of [
      [['127.0.0.1'], 'for="[2001:db8::7]:4711";proto=https', 'for="[2001:db8::7]:4711";proto=https, for=127.0.0.1;proto=http;host=shop.test', '2001:db8::7'],
      [[], 'for="[2001:db8::7]:4711";proto=https', 'for=127.0.0.1;proto=http;host=shop.test', '127.0.0.1'],
      [['127.0.0.1'], 'for="[2001:db8::7', 'for=127.0.0.1;proto=http;host=shop.test', '127.0.0.1'],
    ] as const) {
      it(`peer ${trust.length > 0 ? 'trusted' : 'untrusted'}, client sent Forwarded: ${client}`, async () => {
        const upstream = await echoUpstream();
        const s = await startStack({ listeners: [{ host: '127.0.0.1', port: 0, engine }], trustedProxies: [...trust], pools: { web: { servers: [{ url: upstream.url }] } }, routes: [{ upstream: 'web' }] });
        try {
          const res = await get(s.stack.addresses()[0].port, '/', { host: 'shop.test', forwarded: client });
          const seen = JSON.parse(res.body) as Record<string, string>;
          assert.equal(seen.forwarded, forwarded);
          assert.equal(seen['x-real-ip'], realIp);
        } finally {
          await s.close();
          await upstream.close();
        }
      });
    }

    it('behind a trusted TLS terminator, X-Forwarded-Proto: https is not redirected again (no loop)', async () => {
      const upstream = await echoUpstream();
      const s = await startStack({
        listeners: [{ host: '127.0.0.1', port: 0, redirectToHttps: true, engine }],
        trustedProxies: ['127.0.0.1'],
        pools: { web: { servers: [{ url: upstream.url }] } },
        routes: [{ upstream: 'web' }],
      });
      try {
        const { port } = s.stack.addresses()[0];
        assert.equal((await get(port, '/', { host: 'shop.test', 'x-forwarded-proto': 'https' })).status, 200);
        assert.equal((await get(port, '/', { host: 'shop.test', forwarded: 'for=198.51.100.1;proto=https' })).status, 200);
        const plain = await get(port, '/', { host: 'shop.test' });
        assert.equal(plain.status, 301);
        assert.equal(plain.headers.location, 'https://shop.test/');
      } finally {
        await s.close();
        await upstream.close();
      }
    });
  });
});
