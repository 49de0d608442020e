// Trailers to an h2 client (RFC 9113 §8.1: a trailing HEADERS frame ending the stream): the edge
// sends them on the stream once the body has ended (waitForTrailers + sendTrailers), with
// the same filter as HTTP/1.1 (RFC 9110 §6.5.1; RFC 9113 §8.2.2 forbids connection fields anyway).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, type TestStack } from './helpers/stack.ts';
import { scriptedServer, type Scripted } from './helpers/servers.ts';
import { ensureDevCa, issueDevCertificate } from '../src/edge/dev-ca.ts';

interface H2Result {
  status: number;
  body: string;
  trailers: Record<string, unknown> | null;
}

function request(session: http2.ClientHttp2Session, path: string, method = 'GET'): Promise<H2Result> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ':method': method });
    let status = 0;
    let body = '';
    let trailers: Record<string, unknown> | null = null;
    stream.on('response', (h) => (status = Number(h[':status'])));
    stream.on('trailers', (t) => (trailers = { ...t }));
    stream.setEncoding('utf8').on('data', (c: string) => (body += c));
    stream.on('end', () => resolve({ status, body, trailers }));
    stream.on('error', reject);
  });
}

describe('h2: trailers', () => {
  let upstream: Scripted;
  let s: TestStack;
  let session: http2.ClientHttp2Session;

  before(async () => {
    upstream = await scriptedServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      if (req.method === 'HEAD') return void res.end();
      res.write('hel');
      if (req.url === '/t') res.addTrailers({ 'X-Checksum': 'sha256=abc', 'Set-Cookie': 'a=b', Host: 'evil', 'Cache-Control': 'no-store' });
      res.end('lo');
    });
    const dir = mkdtempSync(join(tmpdir(), 'portico-h2-trailers-'));
    const ca = readFileSync((await ensureDevCa(dir)).cert);
    const pair = await issueDevCertificate(dir, ['localhost'], 'site');
    s = await startStack({
      listeners: [{ host: '127.0.0.1', port: 0, tls: { certs: [{ cert: pair.cert, key: pair.key }] } }],
      pools: { web: { client: 'undici', servers: [{ url: upstream.url }] } },
      routes: [{ upstream: 'web' }],
    }, dir);
    session = http2.connect(`https://localhost:${s.stack.addresses()[0].port}`, { ca });
  });
  after(async () => {
    session.close();
    await s.close();
    await upstream.close();
  });

  it('the allowed trailers arrive in a trailing HEADERS frame; framing, auth and control fields do not', async () => {
    const r = await request(session, '/t');
    assert.equal(r.status, 200);
    assert.equal(r.body, 'hello');
    assert.ok(r.trailers !== null, 'a trailing HEADERS frame');
    assert.equal(r.trailers['x-checksum'], 'sha256=abc');
    for (const name of ['set-cookie', 'host', 'cache-control']) assert.equal(r.trailers[name], undefined, name);
  });

  it('a response without upstream trailers sends no trailer fields', async () => {
    const r = await request(session, '/none');
    assert.equal(r.body, 'hello');
    assert.equal(r.trailers?.['x-checksum'], undefined);
  });

  it('HEAD: no body, no trailers', async () => {
    const r = await request(session, '/t', 'HEAD');
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
    assert.equal(r.trailers, null);
  });
});
