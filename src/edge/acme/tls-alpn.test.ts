// TLS-ALPN-01 answers on a stack's https listener (RFC 8737 §3): the validation certificate goes to
// a handshake offering `acme-tls/1` for a pending name and to nothing else, and that connection
// carries no HTTP. Real TLS clients against a real listener; the certificate's bytes are checked.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createHash } from 'node:crypto';
import { once } from 'node:events';
import http2 from 'node:http2';
import tls from 'node:tls';
import { startStack, type TestStack } from '../../../test/helpers/stack.ts';
import { ACME_TLS_1, validationContext } from './tls-alpn.ts';

const HOST = 'shop.test';
const KEY_AUTHORIZATION = 'tok-1.thumbprint';

interface Handshake {
  alpn: string | false;
  cert: X509Certificate;
  /** Bytes the server sent after the handshake, until it closed. */
  after: Promise<string>;
}

function handshake(port: number, servername: string, ALPNProtocols: string[], maxVersion: tls.SecureVersion = 'TLSv1.3'): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ALPNProtocols, maxVersion, rejectUnauthorized: false }, () => {
      let data = '';
      socket.setEncoding('latin1').on('data', (c: string) => (data += c));
      const after = once(socket, 'close').then(() => data);
      resolve({ alpn: socket.alpnProtocol ?? false, cert: new X509Certificate(socket.getPeerCertificate().raw), after });
      if (socket.alpnProtocol !== ACME_TLS_1) socket.destroy();
    });
    socket.once('error', reject);
  });
}

/** RFC 8737 §3: the extension, critical, holding an OCTET STRING with the SHA-256 (DER bytes). */
function acmeIdentifier(keyAuthorization: string): Buffer {
  const oid = Buffer.from([0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x1f]);
  const critical = Buffer.from([0x01, 0x01, 0xff]);
  const value = Buffer.concat([Buffer.from([0x04, 0x22, 0x04, 0x20]), createHash('sha256').update(keyAuthorization).digest()]);
  return Buffer.concat([oid, critical, value]);
}

for (const engine of ['node', 'portico'] as const) describe(`TLS-ALPN-01 on an https listener (engine ${engine})`, () => {
  let s: TestStack;
  let port: number;
  before(async () => {
    s = await startStack({
      listeners: [{ name: 'https', host: '127.0.0.1', port: 0, tls: 'dev', engine }],
      routes: [{ host: HOST, path: '/', respond: { status: 200, body: 'shop' } }],
    });
    port = s.stack.addresses()[0].port;
    s.stack.acmeChallenges.setValidation(HOST, await validationContext(HOST, KEY_AUTHORIZATION));
  });
  after(() => s?.close());

  it('gives a TLS 1.3 handshake offering acme-tls/1 the validation certificate, then closes with no HTTP', async () => {
    const h = await handshake(port, 'Shop.Test', [ACME_TLS_1]);
    assert.equal(h.alpn, ACME_TLS_1);
    assert.equal(h.cert.subjectAltName, `DNS:${HOST}`);
    assert.ok(h.cert.checkIssued(h.cert), 'self-signed');
    assert.ok(h.cert.raw.includes(acmeIdentifier(KEY_AUTHORIZATION)), 'critical acmeIdentifier with the key authorization digest');
    assert.equal(await h.after, '', 'the server closed without a byte of HTTP');
  });

  it('keeps serving everyone else the real certificate for the same name, h2 and HTTP/1.1', async () => {
    for (const alpn of [['h2'], ['http/1.1'], []]) {
      const h = await handshake(port, HOST, alpn);
      assert.equal(h.alpn, alpn[0] ?? false);
      assert.ok(!h.cert.raw.includes(acmeIdentifier(KEY_AUTHORIZATION)));
      assert.match(h.cert.issuer, /Portico/i);
    }
    // Requests over h2 and HTTP/1.1 are served as usual while the validation is pending.
    const h1 = tls.connect({ host: '127.0.0.1', port, servername: HOST, ALPNProtocols: ['http/1.1'], rejectUnauthorized: false });
    let h1Response = '';
    h1.setEncoding('latin1').on('data', (c: string) => (h1Response += c));
    h1.write(`GET / HTTP/1.1\r\nHost: ${HOST}\r\nConnection: close\r\n\r\n`);
    await once(h1, 'close');
    assert.match(h1Response, /^HTTP\/1\.1 200 [\s\S]*shop$/);
    const session = http2.connect(`https://127.0.0.1:${port}`, { servername: HOST, rejectUnauthorized: false });
    try {
      const stream = session.request({ ':path': '/', ':authority': HOST });
      let body = '';
      stream.setEncoding('utf8').on('data', (c: string) => (body += c));
      await once(stream, 'end');
      assert.equal(body, 'shop');
    } finally {
      session.close();
    }
  });

  it('refuses acme-tls/1 for a name with no pending validation, and over TLS 1.2 (the certificate is chosen before ALPN)', async () => {
    await assert.rejects(handshake(port, 'other.test', [ACME_TLS_1]), { code: 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' });
    await assert.rejects(handshake(port, HOST, [ACME_TLS_1], 'TLSv1.2'), { code: 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' });
    // Offered next to h2 for a name without a validation: plain h2.
    const h = await handshake(port, 'other.test', [ACME_TLS_1, 'h2']);
    assert.equal(h.alpn, 'h2');
  });

  it('stops answering once the validation is removed', async () => {
    s.stack.acmeChallenges.deleteValidation(HOST);
    await assert.rejects(handshake(port, HOST, [ACME_TLS_1]), { code: 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' });
    s.stack.acmeChallenges.setValidation(HOST, await validationContext(HOST, KEY_AUTHORIZATION));
  });
});
